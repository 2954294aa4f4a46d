"""The figures of RELIABILITY.md, "Citations, charts and videos (issue 19, i19-omni)".

Usage: python3 tests/attacks/charts.py target/release/openbb-files
Starts the server on 127.0.0.1 (a free port) over a fixture folder of its own (5,000 notes that
each match a search, a 100 MB one-line .url file, a 60 MB Vega-Lite spec, Highcharts options with
100,000 axes), runs each attack with several clients at once while a normal client GETs a small
table every 50 ms (`bounds.attack`), and prints one table row per attack. Loopback only; it stops
the server it starts and removes its folder; about a minute.
"""
import json, os, tempfile

from bounds import attack, posting, request, serving, stats


def fixture():
    root = tempfile.mkdtemp(prefix="obf-i19-")
    for folder in ["notes", "videos", "charts"]:
        os.makedirs(f"{root}/data/{folder}")
    for i in range(5000):
        open(f"{root}/data/notes/{i:04}.md", "w").write(f"# Note {i}\n\nnet margin up\n")
    open(f"{root}/data/notes/long.md", "w").write("net margin line\n" * 100_000)
    with open(f"{root}/data/videos/huge.url", "w") as f:
        f.write("https://evil.example/" + "x" * (100 << 20) + "\n")
    open(f"{root}/data/videos/ok.url", "w").write("URL=https://www.youtube.com/watch?v=uYyhswnZkSw\n")
    open(f"{root}/data/videos/ok.md", "w").write("# transcript\n" + "words " * 10000)
    values = [{"month": f"m{i}", "value": i} for i in range(1_500_000)]
    json.dump({"mark": "bar", "data": {"values": values}, "encoding": {}}, open(f"{root}/data/charts/big.json", "w"))
    json.dump({"series": [], "xAxis": [{"title": {"text": str(i)}} for i in range(100_000)]}, open(f"{root}/data/charts/axes.json", "w"))
    open(f"{root}/data/prices.csv", "w").write("ticker,close\n" + "AAPL,1\n" * 1000)
    json.dump({
        "search": {"name": "S", "description": "d", "type": "omni", "endpoint": "search", "backend": {"folder": "notes"}},
        "video": {"name": "V", "description": "d", "type": "youtube", "endpoint": "video", "raw": True,
                  "params": [{"paramName": "v", "type": "text", "value": "ok"}], "backend": {"file": "videos/{v}.url"}},
        "big": {"name": "B", "description": "d", "type": "chart-vegalite", "endpoint": "big", "backend": {"file": "charts/big.json"}},
        "axes": {"name": "A", "description": "d", "type": "chart-highcharts", "endpoint": "axes", "backend": {"file": "charts/axes.json"}},
        "prices": {"name": "P", "description": "d", "endpoint": "prices"},
    }, open(f"{root}/widgets.json", "w"))
    return root


def main():
    with serving(fixture()) as (port, pid):
        request(port, "GET", "/prices")
        print("idle", stats(pid))
        post = lambda path, body: posting(port, path, body)
        get = lambda path: (lambda: request(port, "GET", path))
        status, body = posting(port, "/search", {"prompt": "net margin"})()
        answer = json.loads(body)
        print("search: content", len(answer["content"]), "lines; citations", len(answer["extra_citations"]),
              "files; lines cited", sum(len(c["details"]) for c in answer["extra_citations"]))
        attack(port, pid, "4 x omni prompt matching a line of each of 5,001 files", [post("/search", {"prompt": "net margin"})] * 4)
        attack(port, pid, "4 x youtube file: a 100 MB first line, not a URL", [get("/video?v=huge")] * 4)
        attack(port, pid, "4 x youtube transcript (raw=true)", [get("/video?v=ok&raw=true")] * 4)
        attack(port, pid, "1 x vega-lite 60 MB spec, theme=dark (first: parse into the file cache)", [get("/big?theme=dark")])
        attack(port, pid, "4 x vega-lite 60 MB spec, theme=dark", [get("/big?theme=dark")] * 4)
        attack(port, pid, "4 x vega-lite 60 MB spec, no theme (served as written)", [get("/big")] * 4)
        attack(port, pid, "4 x highcharts with 100,000 axes, theme=light", [get("/axes?theme=light")] * 4)
        attack(port, pid, "4 x theme=<2,000-byte junk>", [get("/axes?theme=" + "x" * 2000)] * 4)


main()
