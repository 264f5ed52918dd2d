import httpx
from tests.interop.support import openid_client_login, jwt_parts

def test_probe(js, sites):
    site = sites.get("RS256", "jwt")
    account, app = site.account_and_app("probe")
    login = openid_client_login(js, site, account, app, scope="openid profile account")
    at = login.tokens["access_token"]
    _, claims = jwt_parts(at)
    jti = claims["jti"]
    for tok in (at, jti):
        r = httpx.get(site.url + "/oauth/userinfo", headers={"Authorization": f"Bearer {tok}"})
        print(tok[:20], r.status_code, r.text)
        r = httpx.get(site.url + "/users/me", headers={"Authorization": f"Bearer {tok}"})
        print(tok[:20], r.status_code, r.text)
    creds = site.creds(app)
    # code replay
    print(js.run("code_grant", **creds, callback_url=login.callback, state=login.request["state"], nonce=login.request["nonce"], code_verifier=login.request["code_verifier"]))
    print(js.run("introspect", **creds, token=at))
