# Loaner keys typed on a lent phone, first-run setup, staff accounts.
staff-key-empty = Введите ключ с листка, выданного вместе с телефоном.
staff-key-length = В ключе 16 знаков, четыре группы по четыре, а введено { $count }. Проверьте, весь ли ключ переписан.
staff-key-character = Знака «{ $character }» в ключе нет: в нём только латинские буквы и цифры.
staff-key-typo = В ключе опечатка: один знак набран неверно или два соседних переставлены. Сверьте ключ с листком.
