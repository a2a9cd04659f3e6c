//! Replays every committed corpus input through its target's body on stable: what the fuzzer
//! once found interesting stays panic-free. `make test` runs it (`make fuzz-corpus`).

use std::path::Path;

#[test]
fn every_corpus_input_returns() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (name, target) in external_signer_fuzz::TARGETS {
        let dir = corpus.join(name);
        let mut inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .collect();
        inputs.sort();
        assert!(inputs.len() >= 100, "{name}: only {} corpus inputs", inputs.len());
        for input in &inputs {
            let data = match std::fs::read(input) {
                Ok(data) => data,
                // A fuzzer running on the same corpus removes inputs it reduced.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => panic!("{}: {e}", input.display()),
            };
            if std::panic::catch_unwind(|| target(&data)).is_err() {
                panic!(
                    "{name}: {} panicked (reproduce: cargo +nightly fuzz run {name} {})",
                    input.display(),
                    input.display()
                );
            }
        }
        println!("{name}: {} inputs", inputs.len());
    }
}
