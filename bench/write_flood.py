"""Form writes under load (RELIABILITY.md, "Write-back forms"): N submitters each POST M rows to
the bundled trade-ideas log while one normal client GETs /prices; prints write and GET
latencies, CPU seconds and peak RSS of the server. Run on a COPY of the example folder:
    cp -r widgets.json data /tmp/root/ && python3 bench/write_flood.py /tmp/root 8 100
BIN (environment) is the binary, default target/debug/openbb-files; NOTES=1 posts notes, all
with one title, to the desk_notes newsfeed instead (RELIABILITY.md, "Notes from a newsfeed's
form"). Loopback only."""
import json, threading, time, urllib.request, subprocess, sys, os
BIN=os.environ.get("BIN","target/debug/openbb-files")
root=sys.argv[1]; n_threads=int(sys.argv[2]); each=int(sys.argv[3])
p=subprocess.Popen([BIN,"--root",root,"--port","0","--quiet","--allow-unauthenticated-writes"],stdout=subprocess.PIPE,stderr=subprocess.DEVNULL,text=True)
port=int(p.stdout.readline().strip().rsplit(":",1)[1])
base=f"http://127.0.0.1:{port}"
NOTES=os.environ.get("NOTES")=="1"
def post(i,t):
    row=({"title":"Same: \"idea\"","body":f"note {t}-{i}\n\nmore","ticker":"AAPL"} if NOTES else
         {"id":f"m{t}-{i}","ticker":"AAPL","side":"buy","size":1,"thesis":"a, \"quoted\"\nthesis"})
    r=urllib.request.Request(base+("/desk_notes" if NOTES else "/trade_ideas"),data=json.dumps(row).encode(),headers={"Content-Type":"application/json"},method="POST")
    s=time.time(); urllib.request.urlopen(r,timeout=10).read(); return time.time()-s
lat=[];wl=[]
stop=False
def reader():
    while not stop:
        s=time.time(); urllib.request.urlopen(base+"/prices?ticker=AAPL",timeout=10).read(); lat.append(time.time()-s); time.sleep(0.01)
def writer(t):
    for i in range(each): wl.append(post(i,t))
def cpu():
    f=open(f"/proc/{p.pid}/stat").read().split(); return (int(f[13])+int(f[14]))/os.sysconf("SC_CLK_TCK")
base_lat=[]
for _ in range(50):
    s=time.time(); urllib.request.urlopen(base+"/prices?ticker=AAPL",timeout=10).read(); base_lat.append(time.time()-s)
c0=cpu(); t0=time.time()
r=threading.Thread(target=reader); r.start()
ws=[threading.Thread(target=writer,args=(t,)) for t in range(n_threads)]
[w.start() for w in ws]; [w.join() for w in ws]
el=time.time()-t0; stop=True; r.join(); c1=cpu()
hwm=[l for l in open(f"/proc/{p.pid}/status") if l.startswith("VmHWM")][0].split()[1]
p.kill()
q=lambda xs,f: sorted(xs)[int(len(xs)*f)]*1000
print(f"writes={len(wl)} in {el:.2f}s ({len(wl)/el:.0f}/s) write p50={q(wl,.5):.1f}ms p99={q(wl,.99):.1f}ms; GET /prices before p50={q(base_lat,.5):.1f}ms, during p50={q(lat,.5):.1f}ms p99={q(lat,.99):.1f}ms n={len(lat)}; cpu={c1-c0:.2f}s peakRSS={int(hwm)//1024}MiB")
