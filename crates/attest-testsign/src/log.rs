//! A Rekor-v1-style transparency log with a real RFC 6962 Merkle tree.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::Serialize;
use sigstore_merkle::{hash_children, hash_leaf};
use sigstore_types::Sha256Hash;

use crate::keys::{sha256, Curve, EcKey};

/// What a log hands back for one appended entry: everything a v0.3 bundle's
/// `tlogEntries[]` needs.
#[derive(Debug, Clone)]
pub(crate) struct LoggedEntry {
    pub(crate) log_index: u64,
    pub(crate) tree_size: u64,
    pub(crate) root_hash: [u8; 32],
    pub(crate) hashes: Vec<[u8; 32]>,
    pub(crate) checkpoint: String,
    pub(crate) set: Vec<u8>,
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
    leaves: Vec<Sha256Hash>,
}

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
            leaves: Vec::new(),
        };
        for i in 0..prefill {
            log.leaves.push(hash_leaf(
                format!("attest-testsign dummy entry {i}").as_bytes(),
            ));
        }
        log
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
        let root = *tree_hash(&self.leaves).as_bytes();
        let mut hashes: Vec<[u8; 32]> = audit_path(index, &self.leaves)
            .into_iter()
            .map(|h| *h.as_bytes())
            .collect();
        if faults.bad_inclusion_proof {
            let last = hashes
                .last_mut()
                .expect("bad_inclusion_proof needs a log with at least one prefilled entry");
            last[0] ^= 0x01;
        }

        let checkpoint_root = if faults.checkpoint_wrong_root {
            // The root of the tree before this entry: a real root, just not
            // the one the proof leads to.
            *tree_hash(&self.leaves[..index]).as_bytes()
        } else {
            root
        };
        let note = format!(
            "{}\n{}\n{}\n",
            self.origin,
            size,
            B64.encode(checkpoint_root)
        );
        let signed_note = if faults.bad_checkpoint_signature {
            format!(
                "{}\n{}\n{}\n",
                self.origin,
                size + 1,
                B64.encode(checkpoint_root)
            )
        } else {
            note.clone()
        };
        let signature = self.key.sign(signed_note.as_bytes());
        let mut key_and_sig = self.log_id()[..4].to_vec();
        key_and_sig.extend_from_slice(&signature);
        let checkpoint = format!(
            "{note}\n\u{2014} {} {}\n",
            self.signer_name,
            B64.encode(key_and_sig)
        );

        let body_b64 = B64.encode(body);
        let log_id_hex = hex::encode(self.log_id());
        let payload = SetPayload {
            body: &body_b64,
            integrated_time,
            log_index: i64::try_from(index).expect("a small log"),
            log_id: &log_id_hex,
        };
        let mut canonical =
            serde_json_canonicalizer::to_vec(&payload).expect("the SET payload canonicalizes");
        if faults.bad_set {
            // Sign a payload for a different index.
            let other = SetPayload {
                log_index: payload.log_index + 1,
                ..payload
            };
            canonical =
                serde_json_canonicalizer::to_vec(&other).expect("the SET payload canonicalizes");
        }
        let set = self.key.sign(&canonical);

        LoggedEntry {
            log_index: index as u64,
            tree_size: size as u64,
            root_hash: root,
            hashes,
            checkpoint,
            set,
        }
    }
}

/// RFC 6962 MTH over leaf hashes.
fn tree_hash(leaves: &[Sha256Hash]) -> Sha256Hash {
    match leaves.len() {
        0 => Sha256Hash::new(sha256(b"")),
        1 => leaves[0],
        n => {
            let k = split(n);
            hash_children(&tree_hash(&leaves[..k]), &tree_hash(&leaves[k..]))
        }
    }
}

/// RFC 6962 PATH(m, D[n]): sibling hashes from the leaf up.
fn audit_path(m: usize, leaves: &[Sha256Hash]) -> Vec<Sha256Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut path = audit_path(m, &leaves[..k]);
        path.push(tree_hash(&leaves[k..]));
        path
    } else {
        let mut path = audit_path(m - k, &leaves[k..]);
        path.push(tree_hash(&leaves[..k]));
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
        for n in 1..=17usize {
            let leaves: Vec<Sha256Hash> = (0..n).map(|i| hash_leaf(&[i as u8])).collect();
            let root = tree_hash(&leaves);
            for m in 0..n {
                let path = audit_path(m, &leaves);
                sigstore_merkle::verify_inclusion_proof(
                    &leaves[m], m as u64, n as u64, &path, &root,
                )
                .unwrap_or_else(|e| panic!("m={m} n={n}: {e}"));
            }
        }
    }
}
