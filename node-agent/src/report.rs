//! How errors read in one line: the chain of causes joined with `: `, each said once (some
//! clients repeat their cause in their own message).

use std::error::Error;

pub fn one_line(error: &(dyn Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        let text = current.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = current.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("registering node \"a\"")]
        Register(#[source] Middle),
    }

    #[derive(Debug, thiserror::Error)]
    #[error("client error: {0}")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn causes_are_joined_and_repeats_dropped() {
        let io = || std::io::Error::other("connection refused");
        let error = Outer::Register(Middle(io()));
        assert_eq!(
            one_line(&error),
            "registering node \"a\": client error: connection refused"
        );
    }
}
