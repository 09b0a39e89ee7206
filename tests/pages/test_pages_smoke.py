import pytest

pytestmark = pytest.mark.django_db


def test_smoke(login_as):
    c = login_as("cora", "coordinator")
    for url in [
        "/",
        "/s/small-study/",
        "/s/small-study/participants/",
        "/s/small-study/p/P01/",
        "/s/small-study/participants/new/",
        "/s/small-study/p/P01/labs/",
        "/s/small-study/p/P01/screening/",
        "/s/small-study/p/P01/infusion/",
        "/s/small-study/p/P01/adverse-event/",
        "/s/small-study/p/P01/medication/",
        "/s/small-study/p/P01/consent/",
        "/s/small-study/lots/new/",
        "/s/small-study/p/P01/audit/",
        "/s/small-study/audit/",
    ]:
        r = c.get(url, follow=True)
        assert r.status_code == 200, (url, r.content.decode()[:3000])
