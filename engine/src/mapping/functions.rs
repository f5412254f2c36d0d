//! The functions of Entra's attribute-mapping expressions, by their exact (case-sensitive) names,
//! with how many arguments each takes. The parser checks calls against this catalogue; the
//! evaluator implements each one.

/// How many arguments a function takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    Exactly(usize),
    Between(usize, usize),
    AtLeast(usize),
}

impl Arity {
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k,
            Arity::Between(low, high) => (low..=high).contains(&n),
            Arity::AtLeast(low) => n >= low,
        }
    }

    pub fn describe(self) -> String {
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        match self {
            Arity::Exactly(k) => format!("{k} {}", plural(k)),
            Arity::Between(low, high) => format!("{low} to {high} arguments"),
            Arity::AtLeast(low) => format!("{low} or more {}", plural(low)),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Function {
    pub name: &'static str,
    pub arity: Arity,
}

use Arity::*;

/// Every function of DESIGN.md's list, with the parameters Microsoft's reference documents.
pub const FUNCTIONS: &[Function] = &[
    Function {
        name: "Append",
        arity: Exactly(2),
    },
    Function {
        name: "AppRoleAssignmentsComplex",
        arity: Exactly(1),
    },
    Function {
        name: "AssertiveAppRoleAssignmentsComplex",
        arity: Exactly(1),
    },
    Function {
        name: "BitAnd",
        arity: Exactly(2),
    },
    Function {
        name: "CBool",
        arity: Exactly(1),
    },
    Function {
        name: "CDate",
        arity: Exactly(1),
    },
    Function {
        name: "Coalesce",
        arity: AtLeast(1),
    },
    Function {
        name: "ConvertToBase64",
        arity: Exactly(1),
    },
    Function {
        name: "ConvertToUTF8Hex",
        arity: Exactly(1),
    },
    Function {
        name: "Count",
        arity: Exactly(1),
    },
    Function {
        name: "CStr",
        arity: Exactly(1),
    },
    Function {
        name: "DateAdd",
        arity: Exactly(3),
    },
    Function {
        name: "DateDiff",
        arity: Exactly(3),
    },
    Function {
        name: "DateFromNum",
        arity: Exactly(1),
    },
    // FormatDateTime(source, dateTimeStyles, inputFormat, outputFormat); dateTimeStyles is optional.
    Function {
        name: "FormatDateTime",
        arity: Between(3, 4),
    },
    Function {
        name: "Guid",
        arity: Exactly(0),
    },
    Function {
        name: "IgnoreFlowIfNullOrEmpty",
        arity: Exactly(1),
    },
    Function {
        name: "IIF",
        arity: Exactly(3),
    },
    Function {
        name: "InStr",
        arity: Between(2, 4),
    },
    Function {
        name: "IsNull",
        arity: Exactly(1),
    },
    Function {
        name: "IsNullOrEmpty",
        arity: Exactly(1),
    },
    Function {
        name: "IsPresent",
        arity: Exactly(1),
    },
    Function {
        name: "IsString",
        arity: Exactly(1),
    },
    Function {
        name: "Item",
        arity: Exactly(2),
    },
    Function {
        name: "Join",
        arity: AtLeast(2),
    },
    Function {
        name: "Left",
        arity: Exactly(2),
    },
    Function {
        name: "Mid",
        arity: Exactly(3),
    },
    Function {
        name: "NormalizeDiacritics",
        arity: Exactly(1),
    },
    Function {
        name: "Not",
        arity: Exactly(1),
    },
    Function {
        name: "Now",
        arity: Exactly(0),
    },
    Function {
        name: "NumFromDate",
        arity: Exactly(1),
    },
    Function {
        name: "PCase",
        arity: Between(1, 2),
    },
    Function {
        name: "RandomString",
        arity: Between(1, 6),
    },
    Function {
        name: "Redact",
        arity: Exactly(1),
    },
    Function {
        name: "RemoveDuplicates",
        arity: Exactly(1),
    },
    Function {
        name: "Replace",
        arity: Exactly(7),
    },
    Function {
        name: "SelectUniqueValue",
        arity: AtLeast(1),
    },
    Function {
        name: "SingleAppRoleAssignment",
        arity: Exactly(1),
    },
    Function {
        name: "Split",
        arity: Exactly(2),
    },
    Function {
        name: "StripSpaces",
        arity: Exactly(1),
    },
    // Switch(source, defaultValue, key1, value1, ...): keys and values come in pairs.
    Function {
        name: "Switch",
        arity: AtLeast(2),
    },
    Function {
        name: "ToLower",
        arity: Between(1, 2),
    },
    Function {
        name: "ToUpper",
        arity: Between(1, 2),
    },
    Function {
        name: "Word",
        arity: Exactly(3),
    },
];

pub fn find(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// The known name closest to `name` (case-insensitive edit distance of at most a third of its
/// length), for "did you mean" hints.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&wanted, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= (wanted.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            current[j + 1] = (previous[j] + usize::from(ca != *cb))
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_every_function_of_the_design_once() {
        let design = "Append, AppRoleAssignmentsComplex, AssertiveAppRoleAssignmentsComplex, BitAnd, CBool, CDate, \
            Coalesce, ConvertToBase64, ConvertToUTF8Hex, Count, CStr, DateAdd, DateDiff, DateFromNum, FormatDateTime, \
            Guid, IgnoreFlowIfNullOrEmpty, IIF, InStr, IsNull, IsNullOrEmpty, IsPresent, IsString, Item, Join, Left, \
            Mid, NormalizeDiacritics, Not, Now, NumFromDate, PCase, RandomString, Redact, RemoveDuplicates, Replace, \
            SelectUniqueValue, SingleAppRoleAssignment, Split, StripSpaces, Switch, ToLower, ToUpper, Word";
        let names: Vec<&str> = design.split(", ").collect();
        assert_eq!(names.len(), FUNCTIONS.len());
        for name in names {
            assert!(find(name).is_some(), "{name}");
        }
    }

    #[test]
    fn closest_names_for_typos() {
        let names = FUNCTIONS.iter().map(|f| f.name);
        assert_eq!(closest("ToLOwer", names.clone()), Some("ToLower"));
        assert_eq!(closest("Swich", names.clone()), Some("Switch"));
        assert_eq!(closest("Frobnicate", names), None);
        assert_eq!(Arity::AtLeast(2).describe(), "2 or more arguments");
        assert!(Arity::Between(3, 4).accepts(4) && !Arity::Between(3, 4).accepts(2));
    }
}
