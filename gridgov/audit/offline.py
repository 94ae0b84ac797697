"""The audit log's keyed chain, checkable with nothing but the key: the row form, the seal and the
checkpoint, and a standalone verifier. Standard library only, so it runs away from the deployment:

    GRIDGOV_AUDIT_KEY='a1:…' python gridgov/audit/offline.py --checkpoint latest.json \\
        audit-000000000001-000000004000.jsonl.gz export.jsonl

The files are JSON lines, one audit row each (the archive files, and `manage.py audit_export`'s
export of the table), in any order; the checkpoint is one JSON object (a line of the checkpoint log or
`latest.json`). Exit status 0 when the rows form an unbroken keyed chain that reaches the checkpoint's
last row with its hash, and the checkpoint's signature holds; 1 otherwise, each break on stderr.

The keyed chain: each row's seal is `row_hash = HMAC-SHA256(key[key_id], prev_hash || canonical(row))`,
`prev_hash` the previous row's `row_hash` (64 zeros before the first), `seq` 1, 2, 3… without gaps. The
key lives outside the database (GRIDGOV_AUDIT_KEY, `id:secret` pairs, comma-separated, the first
seals; the others still verify the rows and checkpoints they sealed). Rows sealed before the key
existed (`key_id` empty) carry the old plain SHA-256 seal; they may only come before every keyed row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import hmac
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
FIELDS = (
    "id", "at", "action", "actor_id", "actor_username", "role", "unit_path", "object_type", "object_id",
    "outcome", "ip", "request_id", "detail",
)
# The keyed form leaves out the database id: the seal is made before the INSERT that assigns it.
KEYED_FIELDS = tuple(f for f in FIELDS if f != "id")
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
MIN_SECRET = 32


class KeyError_(ValueError):
    pass


def parse_keys(raw: str) -> tuple[str, dict[str, bytes]]:
    """`id:secret,id2:secret2` → (current id, {id: key}); the first pair seals."""
    keys: dict[str, bytes] = {}
    current = ""
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        kid, sep, secret = part.partition(":")
        if not sep or not _KEY_ID.match(kid) or len(secret) < MIN_SECRET:
            raise KeyError_(f"GRIDGOV_AUDIT_KEY: each key is id:secret, the id 1–16 letters, digits, - or _, "
                            f"the secret at least {MIN_SECRET} characters (got {kid!r})")
        keys.setdefault(kid, secret.encode())
        current = current or kid
    if not keys:
        raise KeyError_("GRIDGOV_AUDIT_KEY is not set")
    return current, keys


def _at_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat(timespec="microseconds")
    moment = dt.datetime.fromisoformat(str(value))
    return _at_text(moment) if moment.tzinfo is not None else str(value)


def canonical(row: dict[str, Any], *, keyed: bool) -> bytes:
    data = {k: row[k] for k in (KEYED_FIELDS if keyed else FIELDS)}
    data["at"] = _at_text(row["at"])
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def seal_hash(prev_hash: str, row: dict[str, Any], key_id: str, keys: dict[str, bytes]) -> str:
    """The row's seal under `key_id` (KeyError when the key is unknown); empty key id: the old plain SHA-256."""
    if not key_id:
        return hashlib.sha256(prev_hash.encode() + canonical(row, keyed=False)).hexdigest()
    return hmac.new(keys[key_id], prev_hash.encode() + canonical(row, keyed=True), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Break:
    seq: int
    event_id: int
    reason: str


def chain_breaks(rows: Iterable[dict[str, Any]], *, first_seq: int, prev: str, keys: dict[str, bytes],
                 keyed_seen: bool = False) -> Iterator[Break]:
    """Every place where sealed rows (in seq order) do not form the keyed chain from (first_seq, prev)."""
    expected = first_seq
    for row in rows:
        seq, event_id, key_id = int(row["seq"]), int(row.get("id") or 0), str(row.get("key_id") or "")
        if seq != expected:
            yield Break(seq, event_id, f"rows missing before seq {seq} (expected {expected})")
        if row["prev_hash"] != prev:
            yield Break(seq, event_id, "link to the previous row does not match")
        if key_id and key_id not in keys:
            yield Break(seq, event_id, f"sealed with an unknown key {key_id!r}")
        elif not key_id and keyed_seen:
            yield Break(seq, event_id, "unkeyed seal after keyed rows (re-chained without the key)")
        elif not hmac.compare_digest(seal_hash(str(row["prev_hash"]), row, key_id, keys), str(row["row_hash"])):
            yield Break(seq, event_id, "row content does not match its seal (changed after sealing, or re-chained)")
        keyed_seen = keyed_seen or bool(key_id)
        prev = str(row["row_hash"])
        expected = seq + 1


# --- checkpoints ----------------------------------------------------------------------------------------
CHECKPOINT_FIELDS = ("v", "first_seq", "last_seq", "count", "last_hash", "at", "key_id")


def _checkpoint_body(cp: dict[str, Any]) -> bytes:
    return json.dumps({k: cp[k] for k in CHECKPOINT_FIELDS}, sort_keys=True, separators=(",", ":")).encode()


def checkpoint_sign(*, first_seq: int, last_seq: int, last_hash: str, at: str, key_id: str,
                    keys: dict[str, bytes]) -> dict[str, Any]:
    """The signed head: the chain in the table runs from first_seq to last_seq (count rows) and ends in last_hash."""
    cp: dict[str, Any] = {"v": 1, "first_seq": first_seq, "last_seq": last_seq,
                          "count": max(last_seq - first_seq + 1, 0), "last_hash": last_hash, "at": at,
                          "key_id": key_id}
    cp["mac"] = hmac.new(keys[key_id], _checkpoint_body(cp), hashlib.sha256).hexdigest()
    return cp


def checkpoint_breaks(cp: dict[str, Any], keys: dict[str, bytes]) -> Iterator[Break]:
    """The checkpoint's own signature and shape."""
    try:
        body = _checkpoint_body(cp)
    except KeyError:
        yield Break(0, 0, "checkpoint is incomplete")
        return
    key = keys.get(str(cp.get("key_id")))
    if key is None:
        yield Break(int(cp["last_seq"]), 0, f"checkpoint signed with an unknown key {cp.get('key_id')!r}")
    elif not hmac.compare_digest(hmac.new(key, body, hashlib.sha256).hexdigest(), str(cp.get("mac", ""))):
        yield Break(int(cp["last_seq"]), 0, "checkpoint signature does not match (forged or changed)")
    elif cp["count"] != max(cp["last_seq"] - cp["first_seq"] + 1, 0):
        yield Break(int(cp["last_seq"]), 0, "checkpoint count does not match its sequence numbers")


def reaches_checkpoint(by_seq: dict[int, dict[str, Any]], cp: dict[str, Any], *, from_seq: int) -> Iterator[Break]:
    """The rows hold everything the checkpoint vouches for: each seq from from_seq to its last_seq, the last
    with its hash (a deleted tail or a re-chained log cannot reach it)."""
    last = int(cp["last_seq"])
    missing = [s for s in range(from_seq, last + 1) if s not in by_seq]
    if missing:
        yield Break(missing[0], 0, f"{len(missing)} row(s) the checkpoint of {cp['at']} vouches for are missing "
                                   f"(seq {missing[0]}–{missing[-1]}; truncated or deleted)")
    row = by_seq.get(last)
    if last and row is not None and row["row_hash"] != cp["last_hash"]:
        yield Break(last, int(row.get("id") or 0), "the row at the checkpoint does not carry the checkpoint's hash "
                                                   "(the log was rewritten)")


# --- the standalone verifier -----------------------------------------------------------------------------
def read_rows(path: str) -> list[dict[str, Any]]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        return [json.loads(line) for line in fh if line.strip()]


def verify_offline(rows: list[dict[str, Any]], cp: dict[str, Any] | None, keys: dict[str, bytes]) -> list[Break]:
    breaks: list[Break] = []
    unsealed = [r for r in rows if r.get("seq") in (None, "")]
    breaks += [Break(0, int(r.get("id") or 0), "row not sealed when written (its content cannot be vouched for)")
               for r in unsealed]
    sealed = sorted((r for r in rows if r.get("seq") not in (None, "")), key=lambda r: int(r["seq"]))
    by_seq = {int(r["seq"]): r for r in sealed}
    if sealed:
        first = sealed[0]
        # From the start of the chain when it is all here; otherwise from the first row given.
        start_prev = GENESIS if int(first["seq"]) == 1 else str(first["prev_hash"])
        breaks += chain_breaks(sealed, first_seq=int(first["seq"]), prev=start_prev, keys=keys)
    if cp is not None:
        breaks += checkpoint_breaks(cp, keys)
        from_seq = max(int(cp["first_seq"]), int(sealed[0]["seq"]) if sealed else 1)
        breaks += reaches_checkpoint(by_seq, cp, from_seq=from_seq)
    return breaks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify exported audit rows against the keyed chain and a checkpoint.")
    parser.add_argument("files", nargs="+", help="JSON-lines files of audit rows (archives, audit_export output)")
    parser.add_argument("--checkpoint", help="a checkpoint (JSON object, or a JSON-lines log: its last line)")
    parser.add_argument("--key-file", help="a file holding GRIDGOV_AUDIT_KEY's value (default: the environment)")
    args = parser.parse_args(argv)
    raw = os.environ.get("GRIDGOV_AUDIT_KEY", "")
    if args.key_file:
        with open(args.key_file, encoding="utf-8") as fh:
            raw = fh.read().strip()
    _, keys = parse_keys(raw)
    rows = [row for path in args.files for row in read_rows(path)]
    cp = None
    if args.checkpoint:
        with open(args.checkpoint, encoding="utf-8") as fh:
            lines = [line for line in fh.read().splitlines() if line.strip()]
        cp = json.loads(lines[-1]) if len(lines) > 1 else json.loads("\n".join(lines))
    breaks = verify_offline(rows, cp, keys)
    for b in breaks:
        print(f"seq {b.seq} (audit event {b.event_id}): {b.reason}", file=sys.stderr)
    if breaks:
        print(f"audit chain broken in {len(breaks)} place(s)", file=sys.stderr)
        return 1
    reach = f", reaching the checkpoint at seq {cp['last_seq']}" if cp else ""
    print(f"audit chain intact: {len(rows)} rows{reach}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
