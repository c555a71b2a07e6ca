import threading

from api_server import OFFSETS, hotspot_rows, publish


def test_switches_to_new_export_atomically_while_serving(tmp_path, start_server):
    exports = tmp_path / "exports"
    v1 = publish(exports, hotspot_rows(OFFSETS[:2]), as_of="2025-11")
    srv = start_server(tmp_path)
    seen, errors, stop = set(), [], threading.Event()

    def hammer():
        with srv.client("analyst") as c:
            while not stop.is_set():
                r = c.get("/v1/taskings/today")
                if r.status_code != 200:
                    errors.append(r.text)
                    continue
                b = r.json()
                seen.add((b["export_version"], b["count"]))

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    versions = [v1.version]
    for i in range(3):
        n = 3 if i % 2 == 0 else 2
        versions.append(publish(exports, hotspot_rows(OFFSETS[:n]), as_of=f"2025-12-{i}").version)
    with srv.client("analyst") as c:
        final = c.get("/v1/version").json()["export_version"]
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert final == versions[-1]
    counts = {v: (2 if i % 2 == 0 else 3) for i, v in enumerate(versions)}
    # every response is internally consistent: the count belongs to the version it names
    assert all(counts[v] == n for v, n in seen), seen
