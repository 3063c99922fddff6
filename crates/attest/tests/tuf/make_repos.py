#!/usr/bin/env python3
"""Build real TUF repositories with python-tuf for attest's TUF tests.

Usage: make_repos.py OUT_DIR TARGET_FILE

Writes OUT_DIR/initial_root.json (version 1, the root a client starts from)
and one directory per scenario, each laid out as a TUF repository served over
HTTP: `N.root.json`, `timestamp.json`, `N.snapshot.json`, `N.targets.json` at
the top (consistent snapshots) and `targets/<sha256>.<name>` for the target.

Scenarios:
  happy               a valid repository
  rotated             root v1 -> v2 with new root and timestamp keys
  expired-timestamp   timestamp expired a day ago
  rollback-high       valid, versions 5 (a client caches these first)
  rollback-low        valid, versions 3 (then sees these: a rollback)
  mix-and-match       timestamp pins a snapshot whose bytes were swapped for
                      another validly signed snapshot of the same version
  tampered-target     the target's bytes changed after signing
  unsigned-root       2.root.json carries no valid signature
  freeze              valid until FREEZE_EXPIRY (see freeze-expiry.txt)
  wrong-key-timestamp timestamp signed by a key the root does not trust
  wrong-key-snapshot  snapshot signed by a key the root does not trust
  wrong-key-targets   targets signed by a key the root does not trust
  oversize-target     the target served one byte longer than its signed length
  many-roots          34 root versions, more than a client walks in one refresh
                      (32); only a cache that already holds them reaches the last
  expired-start       its own starting root (expired-start-initial_root.json,
                      version 1) expired a day ago, as the embedded TUF roots
                      do; version 2 is valid: a client walks the chain to it
"""

import copy
import datetime
import hashlib
import json
import os
import shutil
import sys

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    MetaFile,
    Metadata,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
WEEK = NOW + datetime.timedelta(days=7)
YEAR = NOW + datetime.timedelta(days=365)
SER = JSONSerializer(compact=False)
TARGET_NAME = os.environ.get("TUF_TARGET_NAME", "trusted_root.json")


def new_signer():
    return CryptoSigner.generate_ecdsa()


class Repo:
    """One repository state with its keys."""

    def __init__(self, target_bytes, signers=None, version=1):
        self.target_bytes = target_bytes
        self.signers = signers or {r: new_signer() for r in ("root", "timestamp", "snapshot", "targets")}
        root = Root(expires=YEAR, consistent_snapshot=True)
        for role, signer in self.signers.items():
            root.add_key(signer.public_key, role)
        self.root = Metadata(root)
        self.roots = [self.root]
        self.version = version

    def sign(self, md, role):
        md.signatures.clear()
        md.sign(self.signers[role], append=True)
        return md

    def build(self, expires=WEEK, timestamp_expires=None):
        target = TargetFile.from_data(TARGET_NAME, self.target_bytes, ["sha256"])
        targets = Metadata(Targets(version=self.version, expires=expires, targets={TARGET_NAME: target}))
        self.sign(targets, "targets")
        targets_bytes = targets.to_bytes(SER)
        snapshot = Metadata(
            Snapshot(
                version=self.version,
                expires=expires,
                meta={"targets.json": MetaFile(self.version, len(targets_bytes), {"sha256": hashlib.sha256(targets_bytes).hexdigest()})},
            )
        )
        self.sign(snapshot, "snapshot")
        snapshot_bytes = snapshot.to_bytes(SER)
        timestamp = Metadata(
            Timestamp(
                version=self.version,
                expires=timestamp_expires or expires,
                snapshot_meta=MetaFile(self.version, len(snapshot_bytes), {"sha256": hashlib.sha256(snapshot_bytes).hexdigest()}),
            )
        )
        self.sign(timestamp, "timestamp")
        return {
            "targets": targets_bytes,
            "snapshot": snapshot_bytes,
            "timestamp": timestamp.to_bytes(SER),
        }

    def write(self, out, files, target_bytes=None):
        os.makedirs(os.path.join(out, "targets"), exist_ok=True)
        for i, root in enumerate(self.roots, start=1):
            with open(os.path.join(out, f"{i}.root.json"), "wb") as f:
                f.write(root.to_bytes(SER))
        v = self.version
        with open(os.path.join(out, f"{v}.targets.json"), "wb") as f:
            f.write(files["targets"])
        with open(os.path.join(out, f"{v}.snapshot.json"), "wb") as f:
            f.write(files["snapshot"])
        with open(os.path.join(out, "timestamp.json"), "wb") as f:
            f.write(files["timestamp"])
        digest = hashlib.sha256(self.target_bytes).hexdigest()
        with open(os.path.join(out, "targets", f"{digest}.{TARGET_NAME}"), "wb") as f:
            f.write(self.target_bytes if target_bytes is None else target_bytes)


def main():
    out, target_file = sys.argv[1], sys.argv[2]
    with open(target_file, "rb") as f:
        target = f.read()
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)

    base = Repo(target)
    base.sign(base.root, "root")
    with open(os.path.join(out, "initial_root.json"), "wb") as f:
        f.write(base.root.to_bytes(SER))

    def fresh_copy(version=1):
        r = copy.copy(base)
        r.version = version
        r.roots = list(base.roots)
        r.signers = dict(base.signers)
        return r

    # happy
    r = fresh_copy()
    r.write(os.path.join(out, "happy"), r.build())

    # rotated: v2 root with new root and timestamp keys, signed by old and new root keys
    r = fresh_copy()
    new_root_signer, new_ts_signer = new_signer(), new_signer()
    v2 = copy.deepcopy(base.root)
    v2.signed.version = 2
    for role, old in (("root", base.signers["root"]), ("timestamp", base.signers["timestamp"])):
        v2.signed.revoke_key(old.public_key.keyid, role)
    v2.signed.add_key(new_root_signer.public_key, "root")
    v2.signed.add_key(new_ts_signer.public_key, "timestamp")
    v2.signatures.clear()
    v2.sign(base.signers["root"], append=True)
    v2.sign(new_root_signer, append=True)
    r.roots = [base.root, v2]
    r.signers = dict(base.signers, root=new_root_signer, timestamp=new_ts_signer)
    r.write(os.path.join(out, "rotated"), r.build())

    # expired-timestamp
    r = fresh_copy()
    r.write(os.path.join(out, "expired-timestamp"), r.build(timestamp_expires=NOW - datetime.timedelta(days=1)))

    # rollback-high / rollback-low
    r = fresh_copy(version=5)
    r.write(os.path.join(out, "rollback-high"), r.build())
    r = fresh_copy(version=3)
    r.write(os.path.join(out, "rollback-low"), r.build())

    # mix-and-match: timestamp pins snapshot v2 of one generation, the served
    # 2.snapshot.json is another (validly signed, same version, other bytes).
    r = fresh_copy(version=2)
    files = r.build()
    other = r.build(expires=WEEK + datetime.timedelta(hours=1))
    files["snapshot"] = other["snapshot"]
    r.write(os.path.join(out, "mix-and-match"), files)

    # tampered-target
    r = fresh_copy()
    r.write(os.path.join(out, "tampered-target"), r.build(), target_bytes=target.replace(b"sigstore", b"s1gstore", 1))

    # unsigned-root: 2.root.json signed by a key the v1 root does not trust
    r = fresh_copy()
    bad = copy.deepcopy(base.root)
    bad.signed.version = 2
    bad.signatures.clear()
    bad.sign(new_signer(), append=True)
    r.roots = [base.root, bad]
    r.write(os.path.join(out, "unsigned-root"), r.build())

    # freeze: everything valid for one hour only
    hour = NOW + datetime.timedelta(hours=1)
    r = fresh_copy()
    r.write(os.path.join(out, "freeze"), r.build(expires=hour))
    with open(os.path.join(out, "freeze-expiry.txt"), "w") as f:
        f.write(hour.strftime("%Y-%m-%dT%H:%M:%SZ"))

    # wrong-key-<role>: that role's metadata signed by a fresh key that the
    # root does not list (the other roles stay correctly signed)
    for role in ("timestamp", "snapshot", "targets"):
        r = fresh_copy()
        r.signers[role] = new_signer()
        r.write(os.path.join(out, f"wrong-key-{role}"), r.build())

    # expired-start: a separate repository whose version-1 root has expired
    es = Repo(target)
    es.root.signed.expires = NOW - datetime.timedelta(days=1)
    es.sign(es.root, "root")
    with open(os.path.join(out, "expired-start-initial_root.json"), "wb") as f:
        f.write(es.root.to_bytes(SER))
    v2 = copy.deepcopy(es.root)
    v2.signed.version = 2
    v2.signed.expires = YEAR
    es.sign(v2, "root")
    es.roots = [es.root, v2]
    es.write(os.path.join(out, "expired-start"), es.build())

    # oversize-target: the signed length is len(target); one more byte is served
    r = fresh_copy()
    r.write(os.path.join(out, "oversize-target"), r.build(), target_bytes=target + b"\n")

    # many-roots: root versions 2..34, each signed by the same root key
    r = fresh_copy()
    r.roots = [base.root]
    for version in range(2, 35):
        nxt = copy.deepcopy(base.root)
        nxt.signed.version = version
        nxt.signatures.clear()
        base.sign(nxt, "root")
        r.roots.append(nxt)
    r.write(os.path.join(out, "many-roots"), r.build())


if __name__ == "__main__":
    main()
