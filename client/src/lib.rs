pub use rk_proto;
