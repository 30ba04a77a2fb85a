//! Pieces shared by several pages.

pub mod action_report;
pub mod field;
pub mod filter_field;
pub mod layout;
pub mod live;
pub mod object_editor;
pub mod object_list;
pub mod preview_form;
pub mod references;
