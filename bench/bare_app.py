"""The reference for bench/tiny_jobs.py: a bare FastAPI + SQLite endpoint on the same box.

One POST inserts a row and selects it back, with the same SQLite settings Qumulus uses (WAL,
synchronous=FULL unless QUMULUS_SQLITE_SYNCHRONOUS says otherwise), served by the same uvicorn.
Run: python bench/bare_app.py PORT DB_PATH
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
import uuid

import uvicorn
from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

app = FastAPI()
_local = threading.local()
DB_PATH = sys.argv[2] if len(sys.argv) > 2 else "bare.db"
SYNCHRONOUS = os.environ.get("QUMULUS_SQLITE_SYNCHRONOUS", "FULL")


def _conn() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB_PATH, isolation_level=None, timeout=30, check_same_thread=False)
        conn.execute(f"PRAGMA synchronous={SYNCHRONOUS}")  # WAL is set once at start (it persists)
        conn.execute("PRAGMA busy_timeout=30000")
        _local.conn = conn
    return conn


def _insert_select(body: bytes) -> dict[str, object]:
    conn = _conn()
    item_id = str(uuid.uuid4())
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO items (id, body) VALUES (?, ?)", (item_id, body.decode()))
    conn.execute("COMMIT")
    row = conn.execute("SELECT id, body FROM items WHERE id = ?", (item_id,)).fetchone()
    return {"id": row[0], "body": json.loads(row[1])}


@app.post("/items", status_code=201)
async def create(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse(await run_in_threadpool(_insert_select, body), status_code=201)


@app.get("/health")
async def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})


if __name__ == "__main__":
    setup = sqlite3.connect(DB_PATH)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
    setup.close()
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
