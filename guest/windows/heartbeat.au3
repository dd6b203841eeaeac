; Heartbeat: tells the host every $HEARTBEAT_INTERVAL_S seconds that the guest is alive.
; It also checks that its sibling scripts are here. When one is missing it asks for a revert
; and names the script (a bare exit would end in a heartbeat timeout with no reason given),
; then stops beating, so the host reverts even if it refused the request.
#NoTrayIcon
#include "api.au3"
Opt("MustDeclareVars", 1)

Global $g_iLastSiblingCheck = 0

While 1
	If $g_iLastSiblingCheck = 0 Or TimerDiff($g_iLastSiblingCheck) >= $SIBLING_CHECK_INTERVAL_S * 1000 Then
		Local $sMissing = _MissingSibling()
		If $sMissing <> "" Then
			_Demotool_RequestRevert("heartbeat script: missing sibling " & $sMissing, "error")
			Exit 1
		EndIf
		$g_iLastSiblingCheck = TimerInit()
	EndIf
	If Not _Demotool_Heartbeat() Then _Demotool_Log("heartbeat not answered")
	Sleep($HEARTBEAT_INTERVAL_S * 1000)
WEnd

; The first sibling script found neither as .au3 nor as .exe in this folder; "" when all are here.
Func _MissingSibling()
	Local $aNames = StringSplit($SIBLING_SCRIPTS, "|")
	For $i = 1 To $aNames[0]
		Local $sName = StringStripWS($aNames[$i], 3)
		If $sName = "" Then ContinueLoop
		If Not FileExists(@ScriptDir & "\" & $sName & ".au3") And Not FileExists(@ScriptDir & "\" & $sName & ".exe") Then Return $sName
	Next
	Return ""
EndFunc
