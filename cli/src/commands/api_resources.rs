//! `rkctl api-resources`, as kubectl prints it.

use crate::kinds;
use crate::print::TabWriter;

pub fn print() {
    let mut text = String::from("NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND\n");
    let mut all = kinds::all();
    all.sort_by_key(|(_, plural, ..)| *plural);
    for (kind, plural, short, namespaced) in all {
        text += &format!("{plural}\t{}\tv1\t{namespaced}\t{kind}\n", short.join(","));
    }
    print!("{}", TabWriter::new(6, 3).format(&text));
}
