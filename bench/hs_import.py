"""Time an HS catalogue upload of N lines through the site administrator's page (SQLite); prints seconds.

    .venv/bin/python bench/hs_import.py [--lines 10000]

The first upload adds every line, the second updates every line (new names): both are timed.
"""
import argparse
import io
import re
import time

from common import login, scratch_app


def upload(client, token, text):
    started = time.perf_counter()
    response = client.post("/admin/catalogue/hs", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(text.encode("utf-8")), "hs.csv")})
    elapsed = time.perf_counter() - started
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=10_000)
    args = parser.parse_args()
    app = scratch_app()
    client = app.test_client()
    login(client, "demo-site-admin")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      client.get("/admin/catalogue/hs").get_data(as_text=True)).group(1)
    lines = range(args.lines)
    added = upload(client, token, "code,name,note\n" + "".join(f"0{n:09d},商品{n},备注{n}\n" for n in lines))
    updated = upload(client, token, "code,name,note\n" + "".join(f"0{n:09d},商品{n}（新）,备注{n}\n" for n in lines))
    print(f"HS upload through the page (SQLite), {args.lines} lines")
    print(f"add_s={added:.2f} update_s={updated:.2f}")


if __name__ == "__main__":
    main()
