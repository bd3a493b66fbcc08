"""The hostile-input sweep: every route, every role, every parameter (see test_hostile_input)."""
