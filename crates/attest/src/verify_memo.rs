//! Signature verifications remembered for the run.
//!
//! Verifying many bundles repeats the same signature checks: every leaf
//! certificate chains through the same intermediate to the same root, and
//! every RFC 3161 timestamp comes with the same TSA certificate chain. The
//! core (sigstore-rust, through webpki) verifies those chains from scratch
//! for each bundle: two or three P-384 verifications, about 0.3 ms each,
//! of exactly the same (key, message, signature).
//!
//! This is the core's own crypto provider (aws-lc-rs) behind a memo of the
//! verifications that succeeded, installed as sigstore-crypto's process-wide
//! provider. The memo is a pure function's: its key is SHA-256 over the
//! scheme, the public key, the message and the signature, each
//! length-prefixed, so a hit means the same inputs (short of a SHA-256
//! collision) and the answer cannot differ. Failures are not remembered
//! (they are recomputed, and stay failures). It holds at most
//! [`MAX_ENTRIES`] keys, 32 bytes each, and starts over when full.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use sigstore_crypto::provider::{CryptoProvider, HashContext, SigningKeyPair};
use sigstore_crypto::{KeyAlgorithm, SigningScheme};
use sigstore_types::HashAlgorithm;

/// The most verifications remembered (512 KiB of keys).
pub const MAX_ENTRIES: usize = 16_384;

/// The memo keys of the embedded trusted roots' own certificate chains:
/// each CA or TSA certificate's signature by the next one up its chain
/// (public good, GitHub, staging), as webpki asks for them. Those bytes
/// are compiled into the binary, so their verification cannot come out
/// differently at run time. Knowing them spares a process verifying a
/// GitHub bundle two of its four P-384 verifications (the Fulcio and TSA
/// intermediates' signatures by GitHub's root, about 0.2 ms each; measured
/// with `--verbose`); for a public-good bundle the core asks for none of
/// these links, and the seeds cost one lookup in 18 keys. The test
/// `seeds_are_the_embedded_roots_verified_links` derives this list from the
/// embedded roots, verifies every signature in it, and fails (printing the
/// new list) if an embedded root changes; a key here only matches the exact
/// key, message and signature it was made from.
const EMBEDDED_LINKS: &[[u8; 32]] = &[
    unhex("32b230f8d4240c4c82218a02bb8dceb4e22da51e4fa8e5c06abdac89983b4584"),
    unhex("3de940bed6d825faa4338f5c40c4e8244df2fe9359de5577ea80530b05e93427"),
    unhex("69293839a64894750ff312b6c9565259d6f354de255d4014ccd26549e92842bd"),
    unhex("e5c81f0c5a0c0e27cfaad6377b834a6139ac828da608549c0453d7d7ad1bd05f"),
    unhex("bb9dd6c6566df8cd604b03c1703758f502e8da95416f90cb4877b33621a9e886"),
    unhex("6acb7635b40fce351aa8b69b85ac104fee281cb097a6589fd0c301bc6f339325"),
    unhex("90f97ed842d368a5ececadb92ce7cd89628e4606b2de8bc18bcb46453aba36ed"),
    unhex("93be4a4d13f05ba0e5e32384e9c391643cf25809aafdfc8dda47a669200c2034"),
    unhex("d4df831b21a37c6dff8c9dc2c737eb8d26532225900cb31a9066e9291a5bd3ee"),
    unhex("060701bb11d7d81bbc6d945bf2a12a47ff3eeee0b33cf9d0fde18b09718a25ed"),
    unhex("f8f51f23c370e39ba6b02b3d860ab50c9d5cd26e5696a16cb56a08c805dfa436"),
    unhex("41daf4958591405cf4ad1c3f70c60aa7c9d001286bd0776f715193b3495da9ce"),
    unhex("0cb46186197549b0789057aeee2a925ccc0f2363dbe5f818a586408533d27075"),
    unhex("112603cea566e747861c65bbaa52186caa542fbad5ab4bcc9c104f05ff2137ea"),
    unhex("86ad62d8f4c630a5500617e1f2d1b5145b6dc093432adb2107c79dabb0c8d16a"),
    unhex("c41e44da712324236091be7e645f257ea2023f52a0ccab82e723c8b5d20f6609"),
    unhex("2148baea61ffa6387e70c6ddc04aa6772a33156984b938584e4f28c7573fb058"),
    unhex("bfaddc099e4fad46535b711bbf3a60f6ccfa50a53fde0d875e0181063f39b808"),
];

/// 64 hex digits as 32 bytes, at compile time.
const fn unhex(hex: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("EMBEDDED_LINKS: not a lower-case hex digit"),
        }
    }
    let bytes = hex.as_bytes();
    assert!(bytes.len() == 64, "EMBEDDED_LINKS: not 64 hex digits");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(bytes[2 * i]) << 4 | nibble(bytes[2 * i + 1]);
        i += 1;
    }
    out
}

#[derive(Debug)]
struct Memo {
    inner: &'static dyn CryptoProvider,
    verified: Mutex<HashSet<[u8; 32]>>,
    /// By scheme, in the order first seen (a handful at most).
    stats: Mutex<Vec<(SigningScheme, SignatureStats)>>,
}

/// The signature verifications of one scheme made so far in this process:
/// what the cryptography cost, for `--verbose` and the benchmarks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignatureStats {
    /// The scheme, as sigstore-crypto names it (`EcdsaP256Sha256`, ...).
    pub scheme: String,
    /// Verifications computed (successful or not).
    pub computed: u64,
    /// Verifications answered from the memo.
    pub remembered: u64,
    /// Time spent computing them, in nanoseconds.
    pub nanos: u64,
}

/// Every scheme's [`SignatureStats`] so far, by scheme name.
pub fn signature_stats() -> Vec<SignatureStats> {
    let mut all = memo()
        .stats
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(_, stats)| stats.clone())
        .collect::<Vec<_>>();
    all.sort_by(|a, b| a.scheme.cmp(&b.scheme));
    all
}

impl Memo {
    fn key(kind: u8, scheme: SigningScheme, parts: [&[u8]; 3]) -> [u8; 32] {
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        ctx.update(&[kind]);
        for part in parts {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part);
        }
        // The scheme's name last, unprefixed (what comes before is
        // length-prefixed, so the encoding stays unambiguous), written
        // straight into the hash rather than through a String.
        struct Feed<'a>(&'a mut aws_lc_rs::digest::Context);
        impl std::fmt::Write for Feed<'_> {
            fn write_str(&mut self, s: &str) -> std::fmt::Result {
                self.0.update(s.as_bytes());
                Ok(())
            }
        }
        let _ = std::fmt::Write::write_fmt(&mut Feed(&mut ctx), format_args!("{scheme:?}"));
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }

    fn remembered(&self, key: &[u8; 32]) -> bool {
        EMBEDDED_LINKS.contains(key)
            || self
                .verified
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(key)
    }

    fn remember(&self, key: [u8; 32]) {
        let mut set = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if set.len() >= MAX_ENTRIES {
            set.clear();
        }
        set.insert(key);
    }

    fn checked(
        &self,
        kind: u8,
        scheme: SigningScheme,
        parts: [&[u8]; 3],
        verify: impl FnOnce() -> sigstore_crypto::Result<()>,
    ) -> sigstore_crypto::Result<()> {
        let key = Self::key(kind, scheme, parts);
        if self.remembered(&key) {
            self.count(scheme, None);
            return Ok(());
        }
        let started = Instant::now();
        let result = verify();
        self.count(scheme, Some(started.elapsed().as_nanos() as u64));
        result?;
        self.remember(key);
        Ok(())
    }

    /// Count a verification: computed in `nanos`, or remembered (`None`).
    fn count(&self, scheme: SigningScheme, nanos: Option<u64>) {
        let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        let at = match stats.iter().position(|(s, _)| *s == scheme) {
            Some(at) => at,
            None => {
                stats.push((
                    scheme,
                    SignatureStats {
                        scheme: format!("{scheme:?}"),
                        ..Default::default()
                    },
                ));
                stats.len() - 1
            }
        };
        let entry = &mut stats[at].1;
        match nanos {
            Some(n) => {
                entry.computed += 1;
                entry.nanos += n;
            }
            None => entry.remembered += 1,
        }
    }
}

impl CryptoProvider for Memo {
    fn hash(&self, algorithm: HashAlgorithm) -> sigstore_crypto::Result<Box<dyn HashContext>> {
        self.inner.hash(algorithm)
    }

    fn sha256(&self, data: &[u8]) -> [u8; 32] {
        self.inner.sha256(data)
    }

    fn sha384(&self, data: &[u8]) -> [u8; 48] {
        self.inner.sha384(data)
    }

    fn sha512(&self, data: &[u8]) -> [u8; 64] {
        self.inner.sha512(data)
    }

    fn verify_raw(
        &self,
        scheme: SigningScheme,
        spki_pubkey_bytes: &[u8],
        data: &[u8],
        signature: &[u8],
    ) -> sigstore_crypto::Result<()> {
        self.checked(0, scheme, [spki_pubkey_bytes, data, signature], || {
            self.inner
                .verify_raw(scheme, spki_pubkey_bytes, data, signature)
        })
    }

    fn verify_prehashed(
        &self,
        scheme: SigningScheme,
        spki_pubkey_bytes: &[u8],
        digest: &[u8],
        signature: &[u8],
    ) -> sigstore_crypto::Result<()> {
        self.checked(1, scheme, [spki_pubkey_bytes, digest, signature], || {
            self.inner
                .verify_prehashed(scheme, spki_pubkey_bytes, digest, signature)
        })
    }

    fn generate_key_pair(
        &self,
        algorithm: KeyAlgorithm,
    ) -> sigstore_crypto::Result<Box<dyn SigningKeyPair>> {
        self.inner.generate_key_pair(algorithm)
    }

    fn key_pair_from_pkcs8_der(
        &self,
        pkcs8: &[u8],
    ) -> sigstore_crypto::Result<Box<dyn SigningKeyPair>> {
        self.inner.key_pair_from_pkcs8_der(pkcs8)
    }
}

static MEMO: OnceLock<Memo> = OnceLock::new();

fn memo() -> &'static Memo {
    MEMO.get_or_init(|| Memo {
        inner: sigstore_crypto::aws_lc_provider(),
        verified: Mutex::new(HashSet::new()),
        stats: Mutex::new(Vec::new()),
    })
}

/// Make the memo sigstore-crypto's provider (once; later calls do nothing,
/// and a provider someone else installed first stays).
pub(crate) fn install() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = sigstore_crypto::install_default_provider(memo());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_inputs_hit_and_failures_stay_failures() {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &rng,
        )
        .unwrap();
        let pair = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            pkcs8.as_ref(),
        )
        .unwrap();
        use aws_lc_rs::signature::KeyPair;
        let public = pair.public_key().as_ref().to_vec();
        let sig = pair.sign(&rng, b"message").unwrap().as_ref().to_vec();
        let m = Memo {
            inner: sigstore_crypto::aws_lc_provider(),
            verified: Mutex::new(HashSet::new()),
            stats: Mutex::new(Vec::new()),
        };
        let scheme = SigningScheme::EcdsaP256Sha256;
        assert!(m.verify_raw(scheme, &public, b"message", &sig).is_ok());
        assert_eq!(m.verified.lock().unwrap().len(), 1);
        // Remembered: the same inputs pass again.
        assert!(m.verify_raw(scheme, &public, b"message", &sig).is_ok());
        // Any other message, signature or key is verified afresh, and fails.
        assert!(m.verify_raw(scheme, &public, b"messagf", &sig).is_err());
        let mut bad = sig.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(m.verify_raw(scheme, &public, b"message", &bad).is_err());
        let mut other = public.clone();
        other[5] ^= 1;
        assert!(m.verify_raw(scheme, &other, b"message", &sig).is_err());
        // Failures are not remembered.
        assert!(m.verify_raw(scheme, &public, b"messagf", &sig).is_err());
        assert_eq!(m.verified.lock().unwrap().len(), 1);
        // Length prefixes: moving bytes between fields is another key.
        assert_ne!(
            Memo::key(0, scheme, [b"ab", b"c", b""]),
            Memo::key(0, scheme, [b"a", b"bc", b""])
        );
    }

    fn signed(message: &[u8]) -> (Vec<u8>, Vec<u8>) {
        use aws_lc_rs::signature::KeyPair;
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let alg = &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING;
        let pkcs8 = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let pair = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref()).unwrap();
        let sig = pair.sign(&rng, message).unwrap().as_ref().to_vec();
        (pair.public_key().as_ref().to_vec(), sig)
    }

    #[test]
    fn verifications_are_counted_computed_or_remembered() {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            &rng,
        )
        .unwrap();
        let pair = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
            &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            pkcs8.as_ref(),
        )
        .unwrap();
        use aws_lc_rs::signature::KeyPair;
        let public = pair.public_key().as_ref().to_vec();
        let sig = pair.sign(&rng, b"m").unwrap().as_ref().to_vec();
        let m = fresh();
        let scheme = SigningScheme::EcdsaP384Sha384;
        for _ in 0..3 {
            assert!(m.verify_raw(scheme, &public, b"m", &sig).is_ok());
        }
        // A failure is computed (and counted) every time.
        for _ in 0..2 {
            assert!(m.verify_raw(scheme, &public, b"n", &sig).is_err());
        }
        let stats = m.stats.lock().unwrap();
        let s = &stats[0].1;
        assert_eq!(s.scheme, "EcdsaP384Sha384");
        assert_eq!((s.computed, s.remembered), (3, 2));
        assert!(s.nanos > 0);
        assert_eq!(stats.len(), 1);
    }

    /// A certificate signed by the one above it in an embedded chain:
    /// scheme, the issuer's public key, the signed bytes, the signature.
    type Link = (SigningScheme, Vec<u8>, Vec<u8>, Vec<u8>);

    /// Every link of the embedded roots' chains, each verified here.
    fn embedded_links() -> Vec<Link> {
        use base64::Engine as _;
        use der::{Decode as _, Encode as _, Reader as _};
        let mut links = Vec::new();
        for (name, text) in [
            ("public good", crate::trust::EMBEDDED_PUBLIC_GOOD),
            ("GitHub", crate::trust::EMBEDDED_GITHUB),
            ("staging", crate::trust::EMBEDDED_STAGING),
        ] {
            let root: serde_json::Value = serde_json::from_str(text).unwrap();
            for authorities in ["certificateAuthorities", "timestampAuthorities"] {
                for authority in root[authorities].as_array().unwrap() {
                    let chain: Vec<Vec<u8>> = authority["certChain"]["certificates"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| {
                            base64::engine::general_purpose::STANDARD
                                .decode(c["rawBytes"].as_str().unwrap())
                                .unwrap()
                        })
                        .collect();
                    for pair in chain.windows(2) {
                        let (subject, issuer) = (&pair[0], &pair[1]);
                        // The signed bytes exactly as they stand in the
                        // certificate (what webpki hands the provider).
                        let mut reader = der::SliceReader::new(subject).unwrap();
                        der::Header::decode(&mut reader).unwrap();
                        let tbs = reader.tlv_bytes().unwrap().to_vec();
                        let cert = x509_cert::Certificate::from_der(subject).unwrap();
                        let issuer = x509_cert::Certificate::from_der(issuer).unwrap();
                        let spki = &issuer.tbs_certificate.subject_public_key_info;
                        let point = spki.subject_public_key.raw_bytes();
                        let curve = spki
                            .algorithm
                            .parameters
                            .as_ref()
                            .unwrap()
                            .to_der()
                            .unwrap();
                        let p384 = curve[2..] == [0x2b, 0x81, 0x04, 0x00, 0x22];
                        let sha384 =
                            cert.signature_algorithm.oid.to_string() == "1.2.840.10045.4.3.3";
                        let scheme = match (p384, sha384) {
                            (true, true) => SigningScheme::EcdsaP384Sha384,
                            (true, false) => SigningScheme::EcdsaP384Sha256,
                            (false, true) => SigningScheme::EcdsaP256Sha384,
                            (false, false) => SigningScheme::EcdsaP256Sha256,
                        };
                        let signature = cert.signature.raw_bytes();
                        sigstore_crypto::aws_lc_provider()
                            .verify_raw(scheme, point, &tbs, signature)
                            .unwrap_or_else(|e| {
                                panic!("{name}: a chain link does not verify: {e}")
                            });
                        let link = (scheme, point.to_vec(), tbs, signature.to_vec());
                        if !links.contains(&link) {
                            links.push(link);
                        }
                    }
                }
            }
        }
        links
    }

    #[test]
    fn seeds_are_the_embedded_roots_verified_links() {
        let links = embedded_links();
        let derived: Vec<[u8; 32]> = links
            .iter()
            .map(|(scheme, key, signed, sig)| Memo::key(0, *scheme, [key, signed, sig]))
            .collect();
        let listed = |keys: &[[u8; 32]]| {
            keys.iter()
                .map(|k| format!("    unhex(\"{}\"),\n", hex::encode(k)))
                .collect::<String>()
        };
        assert!(
            derived == EMBEDDED_LINKS,
            "EMBEDDED_LINKS is not the embedded roots' chain links; it should read:\n{}",
            listed(&derived)
        );
        // A seed answers its own verification without computing it, and
        // only its own: one bit changed in the signed bytes, the key or the
        // signature is computed, and fails.
        let m = fresh();
        for (scheme, key, signed, sig) in &links {
            assert!(m.verify_raw(*scheme, key, signed, sig).is_ok());
        }
        let remembered = |m: &Memo| {
            m.stats
                .lock()
                .unwrap()
                .iter()
                .map(|(_, s)| (s.computed, s.remembered))
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
        };
        assert_eq!(remembered(&m), (0, links.len() as u64));
        let (scheme, key, signed, sig) = &links[0];
        let flip = |v: &Vec<u8>, at: usize| {
            let mut v = v.clone();
            v[at] ^= 1;
            v
        };
        assert!(m.verify_raw(*scheme, key, &flip(signed, 40), sig).is_err());
        assert!(m.verify_raw(*scheme, &flip(key, 10), signed, sig).is_err());
        assert!(m.verify_raw(*scheme, key, signed, &flip(sig, 20)).is_err());
        assert_eq!(remembered(&m), (3, links.len() as u64));
    }

    fn fresh() -> Memo {
        Memo {
            inner: sigstore_crypto::aws_lc_provider(),
            verified: Mutex::new(HashSet::new()),
            stats: Mutex::new(Vec::new()),
        }
    }

    #[test]
    fn a_remembered_key_is_answered_without_verifying_per_kind() {
        let m = fresh();
        let scheme = SigningScheme::EcdsaP256Sha256;
        // Not a key, not a signature: fails until its key is remembered
        // (which only a success does), then the memo answers.
        assert!(m.verify_raw(scheme, b"key", b"msg", b"sig").is_err());
        m.remember(Memo::key(0, scheme, [b"key", b"msg", b"sig"]));
        assert!(m.verify_raw(scheme, b"key", b"msg", b"sig").is_ok());
        // The prehashed check is another kind of key: still verified, and fails.
        assert!(m.verify_prehashed(scheme, b"key", b"msg", b"sig").is_err());
        assert_ne!(
            Memo::key(0, scheme, [b"k", b"m", b"s"]),
            Memo::key(1, scheme, [b"k", b"m", b"s"])
        );
        assert_ne!(
            Memo::key(0, scheme, [b"k", b"m", b"s"]),
            Memo::key(0, SigningScheme::EcdsaP384Sha384, [b"k", b"m", b"s"])
        );
        // A prehashed verification that succeeds is remembered under kind 1.
        let (public, sig) = signed(b"message");
        let digest = m.sha256(b"message");
        assert!(m.verify_prehashed(scheme, &public, &digest, &sig).is_ok());
        assert!(m.remembered(&Memo::key(1, scheme, [&public, &digest, &sig])));
        assert!(!m.remembered(&Memo::key(0, scheme, [&public, &digest, &sig])));
    }

    #[test]
    fn the_memo_holds_max_entries_and_starts_over_when_full() {
        let m = fresh();
        let scheme = SigningScheme::EcdsaP256Sha256;
        let key = |i: usize| Memo::key(0, scheme, [&i.to_be_bytes()[..], b"", b""]);
        for i in 0..MAX_ENTRIES {
            m.remember(key(i));
        }
        assert_eq!(m.verified.lock().unwrap().len(), MAX_ENTRIES);
        assert!(m.remembered(&key(0)) && m.remembered(&key(MAX_ENTRIES - 1)));
        m.remember(key(MAX_ENTRIES));
        assert_eq!(m.verified.lock().unwrap().len(), 1);
        assert!(!m.remembered(&key(0)));
        assert!(m.remembered(&key(MAX_ENTRIES)));
    }

    #[test]
    fn hashes_are_the_inner_providers() {
        let m = fresh();
        let hex = |b: &[u8]| hex::encode(b);
        assert_eq!(
            hex(&m.sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&m.sha384(b"abc")),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
             8086072ba1e7cc2358baeca134c825a7"
        );
        assert_eq!(
            hex(&m.sha512(b"abc")),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        let mut ctx = m.hash(HashAlgorithm::Sha2256).unwrap();
        ctx.update(b"abc");
        assert_eq!(hex(&ctx.finalize()), hex(&m.sha256(b"abc")));
    }

    #[test]
    fn install_makes_the_memo_the_process_provider() {
        install();
        install();
        let scheme = SigningScheme::EcdsaP256Sha256;
        let (public, sig) = signed(b"installed");
        sigstore_crypto::provider::default_provider()
            .verify_raw(scheme, &public, b"installed", &sig)
            .unwrap();
        assert!(memo().remembered(&Memo::key(0, scheme, [&public, b"installed", &sig])));
    }
}
