# The checks of `redline logs` (default preset, RULES.md "Structured logs")
# written in jq, for the side-by-side benchmark. Run with -R (raw lines):
#   jq -R -r -f check.jq FILE
# Prints one violation label per violation, like redline's per-kind counts.
def present($k): has($k) and .[$k] != null and .[$k] != "";
def known: "trace", "debug", "info", "warn", "warning", "error", "dpanic", "panic", "fatal";
def errorish: "error", "dpanic", "panic", "fatal";
if test("^\\s*$") then empty else
(try fromjson catch "\u0000invalid") as $o
| if $o == "\u0000invalid" then "invalid-json"
  elif ($o | type) != "object" then "not-an-object"
  else $o
    | (if present("request_id") then empty else "missing-request_id" end),
      (if present("service_name") then empty else "missing-service_name" end),
      (if present("timestamp") or present("ts") or present("time") then empty else "missing-timestamp" end),
      (if has("level") | not then "missing-level"
       elif (.level | type) != "string" then "unknown-level"
       elif ((.level | ascii_downcase) | IN(known) | not) then "unknown-level"
       elif ((.level | ascii_downcase) | IN(errorish))
            and ((present("stacktrace") or present("stack") or present("errorVerbose")) | not)
         then "error-without-stack"
       else empty end)
  end
end
