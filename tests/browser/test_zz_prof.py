import time
from tests.browser.helpers import sign_in
def test_prof(page, seed, server):
    t=time.monotonic(); u=seed.user("p"); print("\nseed.user", time.monotonic()-t)
    t=time.monotonic(); a=seed.app(u); print("seed.app", time.monotonic()-t)
    t=time.monotonic(); page.goto("/signin"); print("goto signin", time.monotonic()-t)
    t=time.monotonic(); sign_in(page, u); print("sign_in", time.monotonic()-t)
    t=time.monotonic(); page.goto("/applications"); print("goto apps", time.monotonic()-t)
    t=time.monotonic(); page.goto("/"); print("goto home", time.monotonic()-t)
