use voltvend::auth::operators;
#[test]
fn timing() {
    let t = std::time::Instant::now();
    let h = operators::hash_password("correct horse").unwrap();
    eprintln!("hash {:?} {h}", t.elapsed());
    let t = std::time::Instant::now();
    assert!(operators::verify_password("correct horse", &h));
    eprintln!("verify {:?}", t.elapsed());
}
