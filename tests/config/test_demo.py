"""The demo hall loads and is a believable, complete hall."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from PIL import Image

from config.loader import load_hall
from config.pins import verify_pin
from config.schema import Session

GBK_OUTSIDE = ("王𬀩", "刘䶮", "周𠇔", "韩㛃")


def test_demo_hall_loads_with_its_sizes(demo_dir: Path) -> None:
    cfg = load_hall(demo_dir)
    assert cfg.folder == demo_dir
    assert cfg.hall.name == "威海市环翠区政务服务中心"
    assert cfg.hall.region_code == "371002"
    assert cfg.hall.timezone == "Asia/Shanghai"
    assert cfg.hall.sessions == (Session(time(9, 0), time(12, 0)), Session(time(13, 30), time(17, 30)))
    assert len(cfg.windows) >= 14
    assert len(cfg.categories) >= 6
    assert len(cfg.services) >= 36
    assert len(cfg.staff) >= 24
    assert cfg.tags.version == 2
    assert cfg.hall.rating.default_rating is False


def test_demo_devices(demo_dir: Path) -> None:
    cfg = load_hall(demo_dir)
    for n in range(1, 9):
        keypad = cfg.window(n).keypad
        assert keypad is not None and (keypad.port, keypad.address, keypad.baud) == ("sim://keypad", n, 9600)
    for n in range(1, 5):
        printer = cfg.window(n).printer
        assert printer is not None and printer.port == f"sim://printer-{n}"
    assert all(w.keypad is None for w in cfg.windows if w.number > 8)
    assert all(w.printer is None for w in cfg.windows if w.number > 4)


def test_demo_references_resolve(demo_dir: Path) -> None:
    cfg = load_hall(demo_dir)
    codes = {c.code for c in cfg.categories}
    assert all(s.category in codes for s in cfg.services)
    assert codes == {code for w in cfg.windows for code in w.categories}
    assert cfg.service("SB-0103").name == "社会保障卡申领"
    assert cfg.category("B").name == "不动产登记"


def test_rare_character_names_survive_loading_and_gb18030(demo_dir: Path) -> None:
    names = {s.name for s in load_hall(demo_dir).staff}
    assert set(GBK_OUTSIDE) <= names
    assert any(ord(ch) >= 0x20000 for name in names for ch in name)          # CJK Ext B and beyond
    assert any(0x3400 <= ord(ch) <= 0x4DBF for name in names for ch in name)  # CJK Ext A
    for name in GBK_OUTSIDE:
        encoded = name.encode("gb18030")
        assert encoded.decode("gb18030") == name
        try:
            name.encode("gbk")
        except UnicodeEncodeError:
            pass
        else:
            raise AssertionError(f"{name} is inside GBK")
    assert "王𬀩".encode("gb18030") == bytes.fromhex("cdf5" "99318739")


def test_demo_staff_photos_pins_and_stars(demo_dir: Path) -> None:
    staff = load_hall(demo_dir).staff
    assert len({s.staff_no for s in staff}) == len(staff)
    for member in staff:
        assert member.photo is not None and member.photo.is_absolute()
        assert member.photo.parent == demo_dir / "photos"
        with Image.open(member.photo) as image:
            assert image.size == (240, 320)
        assert 0 <= member.stars <= 5 and member.promise
    assert verify_pin("1234", staff[0].pin_hash)          # every demo PIN is 1234 (REFERENCE.md)
    assert not verify_pin("4321", staff[-1].pin_hash)


def test_demo_tags_are_versioned(demo_dir: Path) -> None:
    tags = load_hall(demo_dir).tags
    by_code = tags.by_code()
    assert by_code["N07"].removed_in == 2 and by_code["N08"].added_in == 2
    current_bad = {t.text for t in tags.for_level(1)}
    assert {"服务态度差", "办事效率低", "一次性告知不到位", "业务不熟练", "推诿扯皮", "环境设施差"} <= current_bad
    assert "材料要求繁琐" not in current_bad
    assert "材料要求繁琐" in {t.text for t in tags.for_level(1, version=1)}
    assert "排队等候时间长" not in {t.text for t in tags.for_level(1, version=1)}
    assert {"服务热情", "办事高效", "解答耐心"} <= {t.text for t in tags.for_level(5)}
    for level in (3, 4, 5):
        assert tags.for_level(level)
