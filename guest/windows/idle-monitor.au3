; Idle monitor: reports to the host how long ago the last keyboard or mouse input was, every
; $IDLE_REPORT_INTERVAL_S seconds (the host reverts after its idleTimeout without activity).
; With $IDLE_REVERT_AFTER_S set it also asks for a revert itself, with the reason, once the
; guest has been idle that long; then again only after new input and a new idle spell.
#NoTrayIcon
#include "api.au3"
Opt("MustDeclareVars", 1)

Global $g_bAsked = False

While 1
	Local $iIdleS = Int(_Demotool_IdleMs() / 1000)
	_Demotool_IdleReport($iIdleS)
	If $IDLE_REVERT_AFTER_S > 0 And $iIdleS >= $IDLE_REVERT_AFTER_S Then
		If Not $g_bAsked Then
			_Demotool_RequestRevert("idle monitor: no input for " & $iIdleS & " s (limit " & $IDLE_REVERT_AFTER_S & " s)", "info")
			$g_bAsked = True
		EndIf
	Else
		$g_bAsked = False
	EndIf
	Sleep($IDLE_REPORT_INTERVAL_S * 1000)
WEnd
