# Loaner keys typed on a lent phone, first-run setup, staff accounts.
staff-key-empty = Type the key from the sheet that came with the phone.
staff-key-length = A key has 16 characters, four groups of four, and { $count } were typed. Check that all of it is there.
staff-key-character = The character “{ $character }” is in no key: a key has only Latin letters and digits.
staff-key-typo = The key has a typo: a character is wrong or two neighbouring ones are swapped. Check it against the sheet.
