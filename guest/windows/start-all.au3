; Starts the four guest scripts beside it. Put a shortcut to this script in the kiosk user's
; Startup folder (shell:startup), then take the host's `ready` snapshot with them running.
#NoTrayIcon
#include "config.au3"
Opt("MustDeclareVars", 1)

Global $g_aScripts = StringSplit("heartbeat|" & $SIBLING_SCRIPTS, "|")

For $i = 1 To $g_aScripts[0]
	Local $sBase = @ScriptDir & "\" & $g_aScripts[$i]
	If FileExists($sBase & ".exe") Then
		Run('"' & $sBase & '.exe"', @ScriptDir)
	ElseIf FileExists($sBase & ".au3") Then
		Run('"' & @AutoItExe & '" "' & $sBase & '.au3"', @ScriptDir)
	EndIf
Next
