"""Field encryption (fieldcrypt.py): authenticated, bound to its place, under keys the database does not hold."""
from __future__ import annotations

import json

import pytest

from portal import fieldcrypt
from portal.fieldcrypt import KeyFile, KeyFileError, Tampered


@pytest.mark.parametrize("algorithm", sorted(fieldcrypt.ALGORITHMS))
def test_round_trip_and_binding(algorithm):
    key = KeyFile.generate(algorithm).masters["1"]
    here, there = fieldcrypt.context("person", "name", b"a" * 16), fieldcrypt.context("person", "name", b"b" * 16)
    sealed = fieldcrypt.encrypt(algorithm, key, "张三 430302".encode(), here)
    assert "张三".encode() not in sealed
    assert fieldcrypt.decrypt(algorithm, key, sealed, here) == "张三 430302".encode()
    with pytest.raises(Tampered):  # copied into another row
        fieldcrypt.decrypt(algorithm, key, sealed, there)
    with pytest.raises(Tampered):  # into another column of the same row
        fieldcrypt.decrypt(algorithm, key, sealed, fieldcrypt.context("person", "phone", b"a" * 16))
    flipped = bytearray(sealed)
    flipped[15] ^= 1
    with pytest.raises(Tampered):
        fieldcrypt.decrypt(algorithm, key, bytes(flipped), here)
    with pytest.raises(Tampered):
        fieldcrypt.decrypt(algorithm, key, sealed[:20], here)


def test_two_seals_of_one_value_differ():
    key = KeyFile.generate().masters["1"]
    where = fieldcrypt.context("t", "c", b"r" * 16)
    assert fieldcrypt.encrypt("SM4-GCM", key, b"same", where) != fieldcrypt.encrypt("SM4-GCM", key, b"same", where)


def test_blind_index_is_keyed_and_exact():
    one, other = fieldcrypt.KeyRing(KeyFile.generate()), fieldcrypt.KeyRing(KeyFile.generate())
    a = one.blind_index("id_number", "430302199001011234")
    assert a == one.blind_index("id_number", "430302199001011234")
    assert a != one.blind_index("id_number", "430302199001011235")
    assert a != one.blind_index("phone", "430302199001011234")  # kinds do not meet
    assert a != other.blind_index("id_number", "430302199001011234")  # another key file, another index


def test_key_file_written_private_and_read_back(tmp_path):
    path = tmp_path / "keys.json"
    keys = KeyFile.generate("AES-256-GCM")
    keys.write(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert KeyFile.read(path) == keys


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(algorithm="DES"), "algorithm must be one of"),
    (lambda d: d.update(current_master="9"), "current_master 9"),
    (lambda d: d["master_keys"].update({"1": "AAAA"}), "are 16 bytes"),
    (lambda d: d.update(index_key="AAAA"), "index_key must be at least 32 bytes"),
    (lambda d: d.pop("index_key"), "lacks 'index_key'"),
    (lambda d: d.update(index_key="not base64!"), "index_key is not base64"),
])
def test_a_bad_key_file_is_named(tmp_path, change, message):
    path = tmp_path / "keys.json"
    KeyFile.generate().write(path)
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    with pytest.raises(KeyFileError, match=message):
        KeyFile.read(path)


def test_production_refuses_to_start_without_a_key_file(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_KEYS_FILE", raising=False)
    with pytest.raises(KeyFileError, match="PORTAL_KEYS_FILE"):
        fieldcrypt.load_key_file(tmp_path, production=True)
    assert not (tmp_path / "keys.json").exists()
    made = fieldcrypt.load_key_file(tmp_path, production=False)  # development makes one, once
    assert fieldcrypt.load_key_file(tmp_path, production=False) == made
    monkeypatch.setenv("PORTAL_KEYS_FILE", str(tmp_path / "missing.json"))
    with pytest.raises(KeyFileError, match="cannot be read"):
        fieldcrypt.load_key_file(tmp_path, production=True)


def test_aes_values_are_plain_gcm_whichever_api_sealed_them():
    """AES-256-GCM goes through AESGCM, SM4-GCM through Cipher: the bytes are GCM's either way (nonce,
    ciphertext, tag), so values sealed before the faster path open, and the other way round."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key, where = KeyFile.generate("AES-256-GCM").masters["1"], fieldcrypt.context("person", "name", b"r" * 16)
    sealed = fieldcrypt.encrypt("AES-256-GCM", key, "张三".encode(), where)
    decryptor = Cipher(algorithms.AES(key), modes.GCM(sealed[:12], sealed[-16:])).decryptor()
    decryptor.authenticate_additional_data(where)
    assert decryptor.update(sealed[12:-16]) + decryptor.finalize() == "张三".encode()
    encryptor = Cipher(algorithms.AES(key), modes.GCM(b"n" * 12)).encryptor()
    encryptor.authenticate_additional_data(where)
    old = b"n" * 12 + encryptor.update("李四".encode()) + encryptor.finalize() + encryptor.tag
    assert fieldcrypt.decrypt("AES-256-GCM", key, old, where) == "李四".encode()
