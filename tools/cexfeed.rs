fn main() {
    println!("cexfeed: skeleton");
}
