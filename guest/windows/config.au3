; demotool guest scripts for Windows (AutoIt v3): the one file to edit per artwork.
; Every script includes this file (through api.au3); nothing else holds a setting.
#include-once

; Where the guest reaches the host's watchdog. demotool's closed guest network answers here
; (the exhibition controller's hard-coded address, so its own scripts work too).
Global Const $DEMOTOOL_HOST = "http://192.168.122.1:8000"

; Seconds between heartbeats. The host reverts after its heartbeatTimeout (10 s by default)
; without one.
Global Const $HEARTBEAT_INTERVAL_S = 1

; The scripts the heartbeat expects beside it (in this folder, as .au3 or compiled .exe).
; When one is missing, the heartbeat asks for a revert and says which, then stops.
Global Const $SIBLING_SCRIPTS = "idle-monitor|process-watchdog|window-closer"
; Seconds between the heartbeat's checks for its siblings.
Global Const $SIBLING_CHECK_INTERVAL_S = 30

; The idle monitor reports the seconds since the last keyboard or mouse input this often.
Global Const $IDLE_REPORT_INTERVAL_S = 5
; Ask for a revert after this many seconds without input; 0 leaves it to the host's idleTimeout.
; The reports arm the host's idle timer: for an artwork nobody touches, set this to 0 and the
; host's idleTimeout to 0, or it is reverted every idle spell.
Global Const $IDLE_REVERT_AFTER_S = 720

; The artwork's process, as Task Manager names it. Empty: the process watchdog only waits.
Global Const $ARTWORK_PROCESS = "artwork.exe"
; Seconds to let the artwork start before its absence counts, and checks in a row it must be
; missing before the watchdog asks for a revert (one check every $PROCESS_CHECK_INTERVAL_S).
Global Const $PROCESS_START_GRACE_S = 60
Global Const $PROCESS_CHECK_INTERVAL_S = 2
Global Const $PROCESS_MISSING_CHECKS = 3

; Windows the window closer closes, by part of their title, separated by |. Pick titles the
; artwork's own windows never contain.
Global Const $UNWANTED_WINDOWS = "Windows Update|Program Compatibility Assistant|has stopped working|Windows Error Reporting"
; Seconds between its sweeps, and how long a window may ignore WinClose before WinKill.
Global Const $WINDOW_CHECK_INTERVAL_S = 2
Global Const $WINDOW_CLOSE_WAIT_S = 3

; After a revert request (accepted or refused), wait this long before asking again: the host
; rate-limits guest requests and answers 429 meanwhile.
Global Const $REVERT_RETRY_S = 30
; The host refuses a reason longer than this many characters.
Global Const $REASON_MAX_CHARS = 500
; Seconds an HTTP request may take.
Global Const $HTTP_TIMEOUT_S = 5
