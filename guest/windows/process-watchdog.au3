; Process watchdog: asks for a revert, naming the process, when the artwork's process is gone
; for $PROCESS_MISSING_CHECKS checks in a row (after $PROCESS_START_GRACE_S to start).
#NoTrayIcon
#include "api.au3"
Opt("MustDeclareVars", 1)

If $ARTWORK_PROCESS = "" Then
	_Demotool_Log("no artwork process configured: nothing to watch")
	Exit 0
EndIf

Sleep($PROCESS_START_GRACE_S * 1000)
Global $g_iMissing = 0

While 1
	If ProcessExists($ARTWORK_PROCESS) Then
		$g_iMissing = 0
	Else
		$g_iMissing += 1
		If $g_iMissing >= $PROCESS_MISSING_CHECKS Then
			_Demotool_RequestRevert("process watchdog: " & $ARTWORK_PROCESS & " is not running", "error")
			$g_iMissing = 0
			; The host may refuse (429) while it rate-limits or reverts: ask again later.
			Sleep($REVERT_RETRY_S * 1000)
			ContinueLoop
		EndIf
	EndIf
	Sleep($PROCESS_CHECK_INTERVAL_S * 1000)
WEnd
