// The migrations are embedded by `sqlx::migrate!`: a new or changed file under `migrations/`
// rebuilds the crate (cargo would not notice a new file otherwise).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
