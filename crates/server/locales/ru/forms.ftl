## Forms: errors at their fields

# Read by screen readers before a field's error message.
error-prefix = Ошибка:
