"""A local HTTP server that answers as New API's admin API does (controller/log.go, middleware/auth.go):
`GET /api/log/?p=&page_size=&start_timestamp=&end_timestamp=` newest first (id descending, paged
by offset), `GET /api/status` with data.quota_per_unit, the access token and New-Api-User checks,
and `{"success": false, "message": ...}` with HTTP 200 on failure."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeNewApi:
    def __init__(self, *, token="sk-admin-token-0001", user_id=1, quota_per_unit=500_000):
        self.token, self.user_id, self.quota_per_unit = token, user_id, quota_per_unit
        self.rows: list[dict] = []
        self.requests: list[str] = []
        self.between_pages = None  # called after each log page is answered (rows arriving)
        self.fail_message = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                fake.requests.append(self.path)
                url = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/api/status":
                    return self._json({"success": True, "message": "",
                                       "data": {"quota_per_unit": fake.quota_per_unit, "version": "v0.9"}})
                if url.path.rstrip("/") != "/api/log":
                    return self._json({"success": False, "message": "not found"}, code=404)
                auth = self.headers.get("Authorization", "")
                if auth != f"Bearer {fake.token}":
                    return self._json({"success": False, "message": "无权进行此操作，access token 无效"})
                if self.headers.get("New-Api-User") != str(fake.user_id):
                    return self._json({"success": False, "message": "无权进行此操作，New-Api-User 与登录用户不匹配"})
                if fake.fail_message:
                    return self._json({"success": False, "message": fake.fail_message})
                page, size = max(int(q.get("p", 1)), 1), int(q.get("page_size", 10))
                start, end = int(q.get("start_timestamp", 0)), int(q.get("end_timestamp", 0))
                rows = [r for r in fake.rows if (not start or r["created_at"] >= start)
                        and (not end or r["created_at"] <= end)]
                rows.sort(key=lambda r: -r["id"])
                items = rows[(page - 1) * size: page * size]
                self._json({"success": True, "message": "",
                            "data": {"items": items, "total": len(rows), "page": page, "page_size": size}})
                if fake.between_pages:
                    fake.between_pages(page)

            def _json(self, obj, code=200):
                body = json.dumps(obj, ensure_ascii=False).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add(self, rows: list[dict]) -> None:
        """Rows as New API's JSON gives them: `channel` for channel_id, `other` a JSON string."""
        for row in rows:
            item = dict(row)
            item["id"] = len(self.rows) + 1
            item["channel"] = item.pop("channel_id", 0)
            item.setdefault("other", "")
            self.rows.append(item)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
