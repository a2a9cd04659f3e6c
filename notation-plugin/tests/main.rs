//! Integration tests for the plugin binary.
