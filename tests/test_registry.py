import pytest

from optimlab._registry import Registry


def test_lookup_by_name_and_alias():
    reg: Registry[int] = Registry("widget")
    reg.register("alpha", 1, aliases=("a",))
    assert reg.get("alpha") == 1
    assert reg.get("a") == 1
    assert reg.canonical("a") == "alpha"
    assert "a" in reg and "alpha" in reg and "beta" not in reg
    assert reg.names() == ["alpha"]


def test_unknown_name_suggests_close_matches_and_lists_known():
    reg: Registry[int] = Registry("widget")
    reg.register("fashion-mnist", 1)
    reg.register("mnist", 2)
    with pytest.raises(
        ValueError, match=r"unknown widget 'fashion-mnst'; did you mean 'fashion-mnist'"
    ):
        reg.get("fashion-mnst")
    with pytest.raises(ValueError, match=r"unknown widget 'zzz' \(known: fashion-mnist, mnist\)"):
        reg.get("zzz")


def test_duplicate_registration_is_refused():
    reg: Registry[int] = Registry("widget")
    reg.register("x", 1)
    with pytest.raises(ValueError, match="'x' is already registered"):
        reg.register("x", 2)
