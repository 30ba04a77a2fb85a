//! Reading a sync source's changelog: draft-good `cn=changelog` (389 DS Retro Changelog,
//! PingDirectory, OpenDJ) and OpenLDAP's accesslog, both turned into [`ChangeRecord`]s.

mod accesslog;
mod draft_good;
mod ldif;
mod password;
mod push;
mod reader;
mod record;

pub use ldif::{ModOp, Modification};
pub use password::{
    CarriedPasswords, ChangelogPasswordKey, ENCRYPTED_PASSWORD_ATTRIBUTE, PasswordError,
};
pub use push::ChangePush;
pub use reader::{ChangeBatch, ChangelogError, accesslog_backlog, read_changes};
pub use record::{ChangeKind, ChangeRecord};
