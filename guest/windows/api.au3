; The host's guest API, as the scripts call it: plain GETs (every guest route answers GET).
#include-once
#include "config.au3"

; Without a COM error handler, a failed WinHttp call (host unreachable, timeout) ends the
; script with a fatal error; with it, the call sets @error and the script carries on.
Global $g_oDemotoolComError = ObjEvent("AutoIt.Error", "_Demotool_ComError")

Func _Demotool_ComError($oError)
	_Demotool_Log("COM error " & Hex($oError.number, 8) & ": " & StringStripWS($oError.description, 3))
EndFunc

; GET $sUrl; True when the host answered 2xx.
Func _Demotool_Get($sUrl)
	Local $oHttp = ObjCreate("WinHttp.WinHttpRequest.5.1")
	If @error Or Not IsObj($oHttp) Then Return False
	Local $iMs = $HTTP_TIMEOUT_S * 1000
	$oHttp.SetTimeouts($iMs, $iMs, $iMs, $iMs)
	$oHttp.Open("GET", $sUrl, False)
	If @error Then Return False
	$oHttp.Send()
	If @error Then Return False
	Local $iStatus = $oHttp.Status
	Return $iStatus >= 200 And $iStatus < 300
EndFunc

; One heartbeat.
Func _Demotool_Heartbeat()
	Return _Demotool_Get($DEMOTOOL_HOST & "/api/v1/heartbeat")
EndFunc

; Tell the host the last input was $iIdleSeconds ago (0: just now).
Func _Demotool_IdleReport($iIdleSeconds)
	Return _Demotool_Get($DEMOTOOL_HOST & "/api/v1/idle/reset?idle_duration=" & Int($iIdleSeconds))
EndFunc

; Ask the host for a revert, saying why. $sSeverity: "error", "warning" or "info".
Func _Demotool_RequestRevert($sReason, $sSeverity = "error")
	Local $sText = StringLeft($sReason, $REASON_MAX_CHARS)
	_Demotool_Log("revert request: " & $sText)
	Return _Demotool_Get($DEMOTOOL_HOST & "/api/v1/revert/request?reason=" & _Demotool_UrlEncode($sText) & "&severity=" & $sSeverity)
EndFunc

; Percent-encode $sText as UTF-8 for a query string.
Func _Demotool_UrlEncode($sText)
	Local $bData = StringToBinary($sText, 4)
	Local $sOut = ""
	For $i = 1 To BinaryLen($bData)
		Local $iByte = Dec(Hex(BinaryMid($bData, $i, 1)))
		If ($iByte >= 48 And $iByte <= 57) Or ($iByte >= 65 And $iByte <= 90) Or ($iByte >= 97 And $iByte <= 122) Or $iByte = 45 Or $iByte = 46 Or $iByte = 95 Or $iByte = 126 Then
			$sOut &= Chr($iByte)
		Else
			$sOut &= "%" & Hex($iByte, 2)
		EndIf
	Next
	Return $sOut
EndFunc

; Milliseconds since the last keyboard or mouse input in this session.
Func _Demotool_IdleMs()
	Local $tInfo = DllStructCreate("uint cbSize;dword dwTime")
	DllStructSetData($tInfo, "cbSize", DllStructGetSize($tInfo))
	Local $aInput = DllCall("user32.dll", "bool", "GetLastInputInfo", "struct*", $tInfo)
	If @error Or Not $aInput[0] Then Return 0
	Local $aTick = DllCall("kernel32.dll", "dword", "GetTickCount")
	If @error Then Return 0
	Local $iIdle = $aTick[0] - DllStructGetData($tInfo, "dwTime")
	; GetTickCount wraps after 49.7 days.
	If $iIdle < 0 Then $iIdle += 4294967296
	Return $iIdle
EndFunc

; A line on the debugger's console (DebugView shows it), prefixed with the script's name.
Func _Demotool_Log($sText)
	DllCall("kernel32.dll", "none", "OutputDebugStringW", "wstr", "demotool " & @ScriptName & ": " & $sText)
EndFunc
