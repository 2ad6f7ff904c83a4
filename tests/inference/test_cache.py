import numpy as np

from app.inference.base import PreparedImage
from app.inference.cache import EmbeddingCache, read_embedding_file, write_embedding_file


def state(model_id: str = "m1", seed: int = 0, size: int = 8) -> PreparedImage:
    features = np.random.default_rng(seed).standard_normal((1, 4, size, size)).astype(np.float32)
    return PreparedImage(model_id, {"features": features}, (30, 40), (12, 16))


def test_disk_file_round_trips_as_float16(tmp_path):
    original = state()
    write_embedding_file(tmp_path / "x.emb", original)
    loaded = read_embedding_file(tmp_path / "x.emb")
    assert loaded.arrays["features"].dtype == np.float16
    np.testing.assert_array_equal(
        loaded.arrays["features"], original.arrays["features"].astype(np.float16)
    )
    assert (loaded.model_id, loaded.original_size, loaded.input_size) == ("m1", (30, 40), (12, 16))
    assert not list(tmp_path.glob(".*.tmp"))


def test_memory_is_bounded_in_bytes_least_recent_evicted(tmp_path):
    one = state().nbytes
    cache = EmbeddingCache(max_bytes=2 * one, disk_dir=None)
    for name in ("a", "b"):
        cache.put_memory(("m1", name), state())
    assert cache.get_memory(("m1", "a")) is not None  # a is now most recent
    cache.put_memory(("m1", "c"), state())
    assert cache.get_memory(("m1", "b")) is None
    assert cache.get_memory(("m1", "a")) is not None and cache.memory_bytes == 2 * one


def test_disk_hit_after_memory_is_gone_and_promoted(tmp_path):
    cache = EmbeddingCache(max_bytes=10**6, disk_dir=tmp_path)
    cache.put_disk(("m1", "abc"), state())
    fresh = EmbeddingCache(max_bytes=10**6, disk_dir=tmp_path)
    assert fresh.get(("m1", "abc")) is not None
    assert fresh.stats.disk_hits == 1 and fresh.get_memory(("m1", "abc")) is not None


def test_corrupt_file_is_detected_deleted_and_counted(tmp_path):
    cache = EmbeddingCache(max_bytes=10**6, disk_dir=tmp_path)
    key = ("m1", "abc")
    cache.put_disk(key, state())
    path = cache.path_for(key)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    assert cache.get(key) is None
    assert cache.stats.corrupt == 1 and not path.exists()


def test_truncated_and_foreign_files_are_corrupt(tmp_path):
    cache = EmbeddingCache(max_bytes=10**6, disk_dir=tmp_path)
    for key, payload in ((("m1", "t"), None), (("m1", "f"), b"hello world, not ours")):
        cache.put_disk(key, state())
        path = cache.path_for(key)
        path.write_bytes(payload if payload is not None else path.read_bytes()[:100])
        assert cache.get(key) is None
    assert cache.stats.corrupt == 2


def test_other_model_never_sees_the_embedding(tmp_path):
    cache = EmbeddingCache(max_bytes=10**6, disk_dir=tmp_path)
    cache.put_memory(("m1", "abc"), state())
    cache.put_disk(("m1", "abc"), state())
    assert cache.get(("m2", "abc")) is None
