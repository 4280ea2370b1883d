//! Custom domains (#36), against a real DNS server (`pebble-challtestsrv` on loopback): proven
//! by a TXT record, served by the edge only once verified, the reason shown when not live.

mod hostnames;
mod https;
mod verify;
