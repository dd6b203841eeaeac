; Window closer: closes windows whose title contains one of $UNWANTED_WINDOWS (update
; prompts, crash dialogs) before they cover the artwork. A window that ignores WinClose for
; $WINDOW_CLOSE_WAIT_S seconds is killed.
#NoTrayIcon
#include "api.au3"
Opt("MustDeclareVars", 1)
; Match a title anywhere in the window's title.
Opt("WinTitleMatchMode", 2)

Global $g_aTitles = StringSplit($UNWANTED_WINDOWS, "|")

While 1
	For $i = 1 To $g_aTitles[0]
		Local $sTitle = StringStripWS($g_aTitles[$i], 3)
		If $sTitle = "" Then ContinueLoop
		; One window per title and sweep: a window nothing can close (an elevated one) must not
		; hold up the others; the next sweep tries again.
		If WinExists($sTitle) Then
			Local $hWnd = WinGetHandle($sTitle)
			_Demotool_Log("closing window: " & WinGetTitle($hWnd))
			WinClose($hWnd)
			If Not WinWaitClose($hWnd, "", $WINDOW_CLOSE_WAIT_S) Then WinKill($hWnd)
		EndIf
	Next
	Sleep($WINDOW_CHECK_INTERVAL_S * 1000)
WEnd
