//! The mkc node agent.
