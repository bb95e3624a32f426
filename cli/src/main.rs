mod print;
fn main() {}
