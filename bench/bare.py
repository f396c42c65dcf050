"""The bare baseline for bench/pages.py: plain Flask + Jinja + sqlite3 doing the same work as each site page.

Each route does what the page it stands for must do at the least: know who is asking (a signed session cookie
and one query for the user, as any logged-in page must), a query, a template with the same number of rows and
fields; and nothing else a real site adds (CSRF, translations, forms, access rules): the ratio site/bare says
what the site's machinery costs on top of the work itself.
"""
import sqlite3
import tempfile
from pathlib import Path

from flask import Flask, g, render_template, request, session


def build_bare_app(hs_codes):
    """The baseline app over a scratch SQLite file holding ``hs_codes`` [(code, name)] and a table to write to."""
    path = Path(tempfile.mkdtemp(prefix="yuyue-bare-")) / "bare.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE hs (code TEXT PRIMARY KEY, name TEXT NOT NULL)")
        connection.executemany("INSERT INTO hs VALUES (?, ?)", hs_codes)
        connection.execute("CREATE TABLE application (id INTEGER PRIMARY KEY, number TEXT UNIQUE, data TEXT)")
        connection.execute("CREATE TABLE user (id INTEGER PRIMARY KEY, name TEXT NOT NULL, enterprise TEXT)")
        connection.execute("INSERT INTO user VALUES (1, 'demo-general', '重庆某某进出口有限公司')")
    app = Flask(__name__, template_folder=str(Path(__file__).parent / "bare_templates"))
    app.secret_key = "bare"

    def database():
        if "db" not in g:
            g.db = sqlite3.connect(path)
        return g.db

    @app.before_request
    def who():
        session.setdefault("user_id", 1)
        g.user = database().execute("SELECT name, enterprise FROM user WHERE id = ?", (session["user_id"],)).fetchone()

    @app.teardown_appcontext
    def close(error):
        connection = g.pop("db", None)
        if connection is not None:
            connection.close()

    @app.route("/picker", methods=["POST"])
    def picker():
        prefix = request.form.get("prefix", "")
        rows = database().execute("SELECT code, name FROM hs WHERE code >= ? AND code < ? ORDER BY code LIMIT 50",
                                  (prefix, prefix + "~")).fetchall()
        return render_template("picker.html", rows=rows)

    @app.route("/form")
    def form():
        goods = database().execute("SELECT code, name FROM hs ORDER BY code LIMIT ?",
                                   (request.args.get("goods", 0, type=int),)).fetchall()
        return render_template("form.html", fields=range(50), goods=goods)

    @app.route("/table")
    def table():
        rows = database().execute("SELECT code, name FROM hs ORDER BY code LIMIT ?",
                                  (request.args.get("rows", 20, type=int),)).fetchall()
        return render_template("table.html", rows=rows)

    @app.route("/write", methods=["POST"])
    def write():
        connection = database()
        with connection:
            next_id = connection.execute("SELECT coalesce(max(id), 0) + 1 FROM application").fetchone()[0]
            connection.execute("INSERT INTO application (number, data) VALUES (?, ?)",
                               (f"YTG{next_id:015d}", repr(sorted(request.form.items()))))
        return "", 303, {"Location": "/form"}

    return app
