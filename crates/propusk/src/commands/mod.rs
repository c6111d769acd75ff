pub mod bench;
pub mod keys;
pub mod policy;
pub mod serve;
pub mod sign;
pub mod sms;
pub mod user;
pub mod verify;
