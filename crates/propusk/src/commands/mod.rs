pub mod keys;
pub mod sign;
pub mod verify;
