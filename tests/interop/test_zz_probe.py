import httpx
from urllib.parse import parse_qsl, urlsplit
from tests.interop.support import REDIRECT_URI
from tests.support.browser_flow import sign_in

def test_probe(js, site):
    account, app = site.account_and_app("probe")
    creds = site.creds(app)
    req = js.ok("authorization_url", **creds, redirect_uri=REDIRECT_URI, scope="openid",
                extra={"prompt": "login"})
    params = dict(parse_qsl(urlsplit(req["url"]).query))
    with httpx.Client(base_url=site.url, timeout=20) as b:
        r = b.get("/oauth/auth", params=params)
        print(r.status_code, r.headers.get("location"))
        nxt = dict(parse_qsl(urlsplit(r.headers["location"]).query))["next"]
        s = sign_in(b, account, next_path=nxt)
        print("signin", s.status_code, s.headers.get("location"))
        r2 = b.get(s.headers["location"])
        print("back", r2.status_code, r2.headers.get("location"))
