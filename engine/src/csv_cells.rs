//! CSV cells that a spreadsheet would not run. Excel, LibreOffice and Google Sheets read a cell
//! that starts with `=`, `+`, `-` or `@` (or a tab or carriage return before one) as a formula,
//! so a display name or a target's id such as `=HYPERLINK(...)` would act when an administrator
//! opens an export. As OWASP recommends, such a cell is written with a leading `'`, which the
//! spreadsheet shows as text. Our own import takes that quote off again, so a downloaded users
//! file imports back exactly: [`restore`] undoes [`neutralise`] for every string.

use std::borrow::Cow;

/// Whether a spreadsheet could take `cell` for a formula, or it is already one of our quoted
/// cells (so that the quoting stays reversible).
fn needs_quote(cell: &str) -> bool {
    let mut rest = cell;
    // `''=x` was `'=x`, which was `=x`: every quote before a formula character is ours.
    while let Some(after) = rest.strip_prefix('\'') {
        rest = after;
    }
    rest.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// `cell` as written to an export.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if needs_quote(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A cell of an imported file, as it was before [`neutralise`].
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_are_quoted_and_plain_text_is_not() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1 555 0100"), "'+1 555 0100");
        assert_eq!(neutralise("-2"), "'-2");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\t=1"), "'\t=1");
        assert_eq!(neutralise("\r=1"), "'\r=1");
        assert_eq!(neutralise("'=1"), "''=1");
        for plain in ["Ada", "O'Brien", "'quoted'", "", "a=b", "'"] {
            assert_eq!(neutralise(plain), plain);
            assert_eq!(restore(plain), plain);
        }
    }

    proptest! {
        #[test]
        fn an_export_imports_back_exactly(cell in "['=+@\\t\\r-]{0,3}\\PC{0,12}") {
            let written = neutralise(&cell);
            prop_assert_eq!(restore(&written), cell.as_str());
            prop_assert!(!written.starts_with(['=', '+', '-', '@', '\t', '\r']));
        }
    }
}
