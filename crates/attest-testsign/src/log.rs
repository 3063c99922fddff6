//! A Rekor-style transparency log (v1, or v2 with a bare host origin) with
//! a real RFC 6962 Merkle tree.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::Serialize;
use sigstore_merkle::{hash_children, hash_leaf};
use sigstore_types::Sha256Hash;

use crate::keys::{sha256, Curve, EcKey};

/// What the log hands back for one appended entry: everything a v0.3
/// bundle's `tlogEntries[]` (or a Rekor v1 API response) needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEntry {
    /// The entry's index in the log.
    pub log_index: u64,
    /// The tree size the inclusion proof and checkpoint are for.
    pub tree_size: u64,
    /// The RFC 6962 root hash of the tree of `tree_size` entries.
    pub root_hash: [u8; 32],
    /// The audit path, from the leaf up.
    pub hashes: Vec<[u8; 32]>,
    /// The signed checkpoint (a signed note) for `tree_size`/`root_hash`.
    pub checkpoint: String,
    /// The signed entry timestamp: the log's ASN.1 ECDSA signature over the
    /// JCS of `{body, integratedTime, logID, logIndex}`.
    pub set: Vec<u8>,
    /// The integration time, Unix seconds.
    pub integrated_time: i64,
}

/// An entry's inclusion proof in the log's current tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// The tree size the proof and checkpoint are for.
    pub tree_size: u64,
    /// The RFC 6962 root hash of that tree.
    pub root_hash: [u8; 32],
    /// The audit path, from the leaf up.
    pub hashes: Vec<[u8; 32]>,
    /// The signed checkpoint for `tree_size`/`root_hash`.
    pub checkpoint: String,
}

/// How to corrupt one thing about an appended entry.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LogFaults {
    pub(crate) bad_checkpoint_signature: bool,
    pub(crate) checkpoint_wrong_root: bool,
    pub(crate) bad_set: bool,
    pub(crate) bad_inclusion_proof: bool,
}

/// The log: a P-256 key, an origin line and the leaf hashes so far.
#[derive(Debug)]
pub(crate) struct RekorLog {
    pub(crate) key: EcKey,
    /// The checkpoint origin (first line of the note).
    pub(crate) origin: String,
    /// The signer name on the checkpoint signature line (no spaces).
    pub(crate) signer_name: String,
    /// The tree ID in the origin line.
    pub(crate) tree_id: u64,
    leaves: Vec<Sha256Hash>,
    /// Hashes of complete, aligned subtrees (power-of-two sizes): the log is
    /// append-only, so they never change, and with them each append costs
    /// O(log² n) hashes instead of O(n) (a 100,000-entry benchmark log).
    subtrees: Subtrees,
}

/// (first leaf, size) of a complete subtree, to its hash.
type Subtrees = std::sync::Mutex<std::collections::HashMap<(usize, usize), Sha256Hash>>;

#[derive(Serialize)]
struct SetPayload<'a> {
    body: &'a str,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: &'a str,
}

impl RekorLog {
    /// A new log with `prefill` dummy entries already in it.
    pub(crate) fn new(host: &str, prefill: usize) -> Self {
        let key = EcKey::generate(Curve::P256);
        // Rekor v1's origin: "<host> - <tree id>".
        let tree_id = u64::from_be_bytes(key.key_id()[..8].try_into().expect("8 bytes")) >> 1;
        let mut log = Self {
            key,
            origin: format!("{host} - {tree_id}"),
            signer_name: host.to_string(),
            tree_id,
            leaves: Vec::new(),
            subtrees: Subtrees::default(),
        };
        for i in 0..prefill {
            log.leaves.push(hash_leaf(
                format!("attest-testsign dummy entry {i}").as_bytes(),
            ));
        }
        log
    }

    /// A new Rekor v2 log with `prefill` dummy entries. Its checkpoints'
    /// origin and signer name are both `host` (the host of the log's URL,
    /// where verifiers look for it); the tree ID is unused.
    pub(crate) fn new_v2(host: &str, prefill: usize) -> Self {
        let mut log = Self::new(host, prefill);
        log.set_origin(host);
        log
    }

    /// Rename a v2 log: origin and signer name become `host`.
    pub(crate) fn set_origin(&mut self, host: &str) {
        self.origin = host.to_string();
        self.signer_name = host.to_string();
    }

    /// The log ID: SHA-256 of the key's SPKI.
    pub(crate) fn log_id(&self) -> [u8; 32] {
        self.key.key_id()
    }

    /// Number of entries.
    pub(crate) fn size(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// Append a canonicalized body, returning the proof, checkpoint and SET.
    pub(crate) fn append(
        &mut self,
        body: &[u8],
        integrated_time: i64,
        faults: LogFaults,
    ) -> LoggedEntry {
        let index = self.leaves.len();
        self.leaves.push(hash_leaf(body));
        let size = self.leaves.len();
        let root = *tree_hash(&self.leaves, 0, Some(&self.subtrees)).as_bytes();
        let mut hashes = self.audit_path_bytes(index, size);
        if faults.bad_inclusion_proof {
            let last = hashes
                .last_mut()
                .expect("bad_inclusion_proof needs a log with at least one prefilled entry");
            last[0] ^= 0x01;
        }

        let checkpoint_root = if faults.checkpoint_wrong_root {
            // The root of the tree before this entry: a real root, just not
            // the one the proof leads to.
            *tree_hash(&self.leaves[..index], 0, Some(&self.subtrees)).as_bytes()
        } else {
            root
        };
        let checkpoint = self.signed_checkpoint(
            size as u64,
            &checkpoint_root,
            faults.bad_checkpoint_signature,
        );

        let index = i64::try_from(index).expect("a small log");
        let set = self.signed_entry_timestamp(body, integrated_time, index, faults.bad_set);

        LoggedEntry {
            log_index: index as u64,
            tree_size: size as u64,
            root_hash: root,
            hashes,
            checkpoint,
            set,
            integrated_time,
        }
    }

    /// The inclusion proof of entry `index` in the current tree, with a
    /// checkpoint for the current size (Rekor's answer when an entry is read
    /// back later), or `None` if there is no such entry.
    pub(crate) fn prove(&self, index: u64) -> Option<InclusionProof> {
        let index = usize::try_from(index).ok()?;
        let size = self.leaves.len();
        if index >= size {
            return None;
        }
        let root = *tree_hash(&self.leaves, 0, Some(&self.subtrees)).as_bytes();
        let hashes = self.audit_path_bytes(index, size);
        let checkpoint = self.signed_checkpoint(size as u64, &root, false);
        Some(InclusionProof {
            tree_size: size as u64,
            root_hash: root,
            hashes,
            checkpoint,
        })
    }

    /// The current tree size, root hash and signed checkpoint.
    pub(crate) fn head(&self) -> (u64, [u8; 32], String) {
        let size = self.leaves.len() as u64;
        let root = *tree_hash(&self.leaves, 0, Some(&self.subtrees)).as_bytes();
        (size, root, self.signed_checkpoint(size, &root, false))
    }

    fn audit_path_bytes(&self, index: usize, size: usize) -> Vec<[u8; 32]> {
        audit_path(index, &self.leaves[..size], 0, Some(&self.subtrees))
            .into_iter()
            .map(|h| *h.as_bytes())
            .collect()
    }

    /// A checkpoint (signed note) for `size` and `root`; with `corrupt`, the
    /// signature is over a note for another size.
    fn signed_checkpoint(&self, size: u64, root: &[u8; 32], corrupt: bool) -> String {
        let note = format!("{}\n{}\n{}\n", self.origin, size, B64.encode(root));
        let signed_note = if corrupt {
            format!("{}\n{}\n{}\n", self.origin, size + 1, B64.encode(root))
        } else {
            note.clone()
        };
        let signature = self.key.sign(signed_note.as_bytes());
        let mut key_and_sig = self.log_id()[..4].to_vec();
        key_and_sig.extend_from_slice(&signature);
        format!(
            "{note}\n\u{2014} {} {}\n",
            self.signer_name,
            B64.encode(key_and_sig)
        )
    }

    /// The SET over `{body, integratedTime, logID, logIndex}`; with
    /// `corrupt`, over a payload for the next index.
    fn signed_entry_timestamp(
        &self,
        body: &[u8],
        integrated_time: i64,
        log_index: i64,
        corrupt: bool,
    ) -> Vec<u8> {
        let body_b64 = B64.encode(body);
        let log_id_hex = hex::encode(self.log_id());
        let payload = SetPayload {
            body: &body_b64,
            integrated_time,
            log_index: if corrupt { log_index + 1 } else { log_index },
            log_id: &log_id_hex,
        };
        let canonical =
            serde_json_canonicalizer::to_vec(&payload).expect("the SET payload canonicalizes");
        self.key.sign(&canonical)
    }
}

/// RFC 6962 MTH over leaf hashes; `leaves` starts at leaf `start` of the
/// log, whose complete subtrees `cache` remembers (if given).
fn tree_hash(leaves: &[Sha256Hash], start: usize, cache: Option<&Subtrees>) -> Sha256Hash {
    match leaves.len() {
        0 => Sha256Hash::new(sha256(b"")),
        1 => leaves[0],
        n => {
            // Only complete subtrees are remembered; their parts are looked
            // up on their own.
            let complete = n.is_power_of_two() && start % n == 0;
            let remembered = cache.filter(|_| complete);
            if let Some(c) = remembered {
                if let Some(h) = c.lock().unwrap_or_else(|e| e.into_inner()).get(&(start, n)) {
                    return *h;
                }
            }
            let k = split(n);
            let h = hash_children(
                &tree_hash(&leaves[..k], start, cache),
                &tree_hash(&leaves[k..], start + k, cache),
            );
            if let Some(c) = remembered {
                c.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert((start, n), h);
            }
            h
        }
    }
}

/// RFC 6962 PATH(m, D[n]): sibling hashes from the leaf up (`leaves` and
/// `cache` as for [`tree_hash`]).
fn audit_path(
    m: usize,
    leaves: &[Sha256Hash],
    start: usize,
    cache: Option<&Subtrees>,
) -> Vec<Sha256Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut path = audit_path(m, &leaves[..k], start, cache);
        path.push(tree_hash(&leaves[k..], start + k, cache));
        path
    } else {
        let mut path = audit_path(m - k, &leaves[k..], start + k, cache);
        path.push(tree_hash(&leaves[..k], start, cache));
        path
    }
}

/// The largest power of two smaller than `n` (n >= 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_paths_verify_for_every_index_and_size() {
        // One cache across every size, as a growing log uses it: each tree's
        // hashes and paths must be those computed without it.
        let cache = Subtrees::default();
        for n in 1..=40usize {
            let leaves: Vec<Sha256Hash> = (0..n).map(|i| hash_leaf(&[i as u8])).collect();
            let root = tree_hash(&leaves, 0, None);
            assert_eq!(tree_hash(&leaves, 0, Some(&cache)), root, "n={n}");
            for m in 0..n {
                let path = audit_path(m, &leaves, 0, None);
                assert_eq!(audit_path(m, &leaves, 0, Some(&cache)), path, "m={m} n={n}");
                sigstore_merkle::verify_inclusion_proof(
                    &leaves[m], m as u64, n as u64, &path, &root,
                )
                .unwrap_or_else(|e| panic!("m={m} n={n}: {e}"));
            }
        }
        assert!(!cache.lock().unwrap().is_empty());
    }
}
