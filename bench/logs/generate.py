#!/usr/bin/env python3
"""Writes a JSON-lines log of about SIZE_MB megabytes, zap production style,
with a sprinkling of each violation redline logs reports.

usage: generate.py SIZE_MB OUT [--long-line-mb N]
"""
import sys

def main():
    size = int(sys.argv[1]) << 20
    out = sys.argv[2]
    long_mb = 0
    if "--long-line-mb" in sys.argv:
        long_mb = int(sys.argv[sys.argv.index("--long-line-mb") + 1])
    written = 0
    i = 0
    with open(out, "w", buffering=1 << 20) as f:
        while written < size:
            batch = []
            for _ in range(1000):
                r = i % 1000
                if r == 999:
                    line = '{"level":"error","ts":%d.25,"caller":"orders/handler.go:88","msg":"payment failed","request_id":"req-%d","service_name":"orders","error":"card declined"}\n' % (i, i)
                elif r == 500:
                    line = 'panic: runtime error: invalid memory address or nil pointer dereference\n'
                elif r == 250:
                    line = '{"level":"info","ts":%d.5,"msg":"cache warm","service_name":"orders"}\n' % i
                elif r == 125:
                    line = '{"level":"verbose","ts":%d.5,"msg":"x","request_id":"r%d","service_name":"orders"}\n' % (i, i)
                else:
                    line = ('{"level":"info","ts":%d.123456,"caller":"http/server.go:214","msg":"handled request",'
                            '"request_id":"req-%d","service_name":"orders","method":"GET","path":"/v1/orders/%d",'
                            '"status":200,"latency_ms":%d,"user_agent":"Go-http-client/1.1","labels":{"region":"eu-west-1","zone":"b"}}\n'
                            % (i, i, i, i % 97))
                batch.append(line)
                i += 1
            chunk = "".join(batch)
            f.write(chunk)
            written += len(chunk)
        if long_mb:
            f.write('{"level":"info","msg":"' + "x" * (long_mb << 20) + '"}\n')
    print(f"{out}: {written >> 20} MB, {i} lines", file=sys.stderr)

if __name__ == "__main__":
    main()
