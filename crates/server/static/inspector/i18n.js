// Every string of the app, in Russian (the default) and English. `{name}` marks a
// parameter. Both languages must have the same keys; a browser test checks it.

export const STRINGS = {
  ru: {
    appTitle: 'Пропуск · проверка',
    skipLink: 'Перейти к содержимому',
    langToggle: 'English',
    signOut: 'Выйти',
    loading: 'Загрузка…',

    signInTitle: 'Вход для инспектора',
    signInIntro: 'Войдите учётной записью инспектора. После первого входа пропуска проверяются и без сети.',
    username: 'Имя пользователя',
    password: 'Пароль',
    signIn: 'Войти',
    signingIn: 'Вход…',
    signInNotInspector: 'У этой учётной записи нет роли инспектора.',
    signInOffline: 'Нет сети. Для первого входа нужен интернет.',
    signInFailed: 'Не удалось войти: {detail}',
    signInMissing: 'Введите имя пользователя и пароль.',
    signedInAs: 'Инспектор: {name}',

    scanTitle: 'Проверка пропуска',
    cameraLabel: 'Изображение с камеры',
    cameraStarting: 'Включаем камеру…',
    cameraScanning: 'Наведите камеру на QR-код пропуска.',
    cameraDenied: 'Нет доступа к камере. Разрешите его в настройках браузера или введите короткий код.',
    cameraUnavailable: 'Камера недоступна на этом устройстве. Введите короткий код пропуска.',
    cameraStopped: 'Камера выключена.',
    cameraStop: 'Выключить камеру',
    cameraStart: 'Включить камеру',

    codeTitle: 'Проверка по короткому коду',
    codeLabel: 'Короткий код пропуска',
    codeHint: 'Например: 7K3-QX9-4MM. Проверка по коду идёт на сервере — нужна сеть.',
    codeSubmit: 'Проверить код',
    codeChecking: 'Проверяем…',
    codeErrEmpty: 'Введите короткий код пропуска.',
    codeErrCharacter: 'Символ «{character}» не встречается в коротких кодах.',
    codeErrLength: 'В коротком коде 9 символов, например 7K3-QX9-4MM.',
    codeErrCheck: 'Код введён с ошибкой: проверьте каждый символ.',
    codeNeedsNetwork: 'Нет сети: проверка по коду возможна только онлайн. Отсканируйте QR-код — он проверяется без сети.',
    codeFailed: 'Проверить код не удалось: {detail}',

    statusTitle: 'Списки для проверки без сети',
    statusNetwork: 'Сеть',
    online: 'есть',
    offline: 'нет — проверка по спискам на телефоне',
    statusKeys: 'Ключи подписи',
    statusRevocations: 'Отозванные пропуска',
    statusRegime: 'Режим',
    statusChecks: 'Проверки к отправке',
    never: 'ещё не загружены',
    keysLine: 'ключей: {count}, обновлены {ago}',
    revocationsLine: 'отозвано: {count}, версия списка № {sequence}, обновлён {ago}',
    regimeLine: '{name}, обновлён {ago}',
    stale: 'устарели — обновите при появлении сети',
    checksLine: '{count}',
    checksNone: 'все отправлены',
    syncNow: 'Обновить списки',
    syncing: 'Обновляем списки…',
    syncingRevocations: 'Загружаем список отзыва: {percent} %…',
    syncDone: 'Списки обновлены.',
    syncFailed: 'Не удалось обновить списки: {detail}. Проверка идёт по сохранённым.',
    syncOffline: 'Нет сети: проверка идёт по сохранённым спискам.',
    justNow: 'только что',
    minutesAgo: '{n} мин назад',
    hoursAgo: '{n} ч назад',
    daysAgo: '{n} дн. назад',
    noKeys: 'Списки ещё не загружены: подключитесь к сети и обновите их.',

    verdictValid: 'Действителен',
    verdictInvalid: 'Недействителен',
    reason_valid: 'Пропуск действителен',
    reason_expired: 'Срок действия истёк',
    reason_not_yet_valid: 'Пропуск ещё не действует',
    reason_revoked: 'Пропуск отозван',
    reason_unknown_key: 'Неизвестный ключ подписи',
    reason_bad_signature: 'Подпись неверна — возможна подделка',
    reason_malformed: 'Это не пропуск, или код повреждён',
    hint_unknown_key: 'Обновите списки, когда появится сеть. Если не поможет — пропуск выдан не этой системой.',
    hint_malformed: 'Подробности: {reason}',
    holderLabel: 'Сверьте с документом',
    holderHint: 'инициалы и последние 4 символа документа',
    purposeLabel: 'Цель',
    windowLabel: 'Действует',
    regimeLabel: 'Режим',
    areaLabel: 'Район',
    vehicleLabel: 'Транспорт',
    passLabel: 'Номер пропуска',
    checkedLabel: 'Проверка',
    checkedDevice: 'на телефоне; списки обновлены {ago}',
    checkedServer: 'на сервере по короткому коду',
    nextCheck: 'Следующая проверка',
    announceValid: 'Пропуск действителен. {purpose}. Сверьте с документом: {holder}.',
    announceInvalid: 'Пропуск недействителен: {reason}.',
  },
  en: {
    appTitle: 'Propusk · inspection',
    skipLink: 'Skip to content',
    langToggle: 'Русский',
    signOut: 'Sign out',
    loading: 'Loading…',

    signInTitle: 'Inspector sign-in',
    signInIntro: 'Sign in with your inspector account. After the first sign-in, passes are checked even with no network.',
    username: 'Username',
    password: 'Password',
    signIn: 'Sign in',
    signingIn: 'Signing in…',
    signInNotInspector: 'This account does not have the inspector role.',
    signInOffline: 'No network. The first sign-in needs the internet.',
    signInFailed: 'Could not sign in: {detail}',
    signInMissing: 'Enter your username and password.',
    signedInAs: 'Inspector: {name}',

    scanTitle: 'Check a pass',
    cameraLabel: 'Camera view',
    cameraStarting: 'Starting the camera…',
    cameraScanning: "Point the camera at the pass's QR code.",
    cameraDenied: 'No access to the camera. Allow it in the browser settings, or type the short code.',
    cameraUnavailable: "There is no usable camera on this device. Type the pass's short code.",
    cameraStopped: 'The camera is off.',
    cameraStop: 'Turn the camera off',
    cameraStart: 'Turn the camera on',

    codeTitle: 'Check by short code',
    codeLabel: "The pass's short code",
    codeHint: 'For example: 7K3-QX9-4MM. A short code is checked by the server, so it needs the network.',
    codeSubmit: 'Check the code',
    codeChecking: 'Checking…',
    codeErrEmpty: "Type the pass's short code.",
    codeErrCharacter: 'The character “{character}” does not occur in short codes.',
    codeErrLength: 'A short code has 9 characters, for example 7K3-QX9-4MM.',
    codeErrCheck: 'The code has a typo: check each character.',
    codeNeedsNetwork: 'No network: short codes can only be checked online. Scan the QR code instead — it is checked offline.',
    codeFailed: 'The code could not be checked: {detail}',

    statusTitle: 'Lists for offline checks',
    statusNetwork: 'Network',
    online: 'online',
    offline: 'offline — checking with the lists on this phone',
    statusKeys: 'Signing keys',
    statusRevocations: 'Revoked passes',
    statusRegime: 'Regime',
    statusChecks: 'Checks not yet reported',
    never: 'not downloaded yet',
    keysLine: '{count} keys, updated {ago}',
    revocationsLine: '{count} revoked, list version {sequence}, updated {ago}',
    regimeLine: '{name}, updated {ago}',
    stale: 'out of date — update when online',
    checksLine: '{count}',
    checksNone: 'all reported',
    syncNow: 'Update the lists',
    syncing: 'Updating the lists…',
    syncingRevocations: 'Downloading the revocation list: {percent}%…',
    syncDone: 'The lists are up to date.',
    syncFailed: 'Could not update the lists: {detail}. Checking with the saved ones.',
    syncOffline: 'No network: checking with the saved lists.',
    justNow: 'just now',
    minutesAgo: '{n} min ago',
    hoursAgo: '{n} h ago',
    daysAgo: '{n} days ago',
    noKeys: 'The lists are not downloaded yet: go online and update them.',

    verdictValid: 'Valid',
    verdictInvalid: 'Not valid',
    reason_valid: 'The pass is valid',
    reason_expired: 'Expired',
    reason_not_yet_valid: 'Not yet valid',
    reason_revoked: 'Revoked',
    reason_unknown_key: 'Unknown signing key',
    reason_bad_signature: 'Bad signature — possibly forged',
    reason_malformed: 'Not a pass, or the code is damaged',
    hint_unknown_key: 'Update the lists when online. If that does not help, the pass was not issued by this system.',
    hint_malformed: 'Details: {reason}',
    holderLabel: 'Compare with the ID document',
    holderHint: "initials and the document's last 4 characters",
    purposeLabel: 'Purpose',
    windowLabel: 'Valid',
    regimeLabel: 'Regime',
    areaLabel: 'Area',
    vehicleLabel: 'Vehicle',
    passLabel: 'Pass number',
    checkedLabel: 'Checked',
    checkedDevice: 'on this phone; lists updated {ago}',
    checkedServer: 'by the server, by short code',
    nextCheck: 'Next check',
    announceValid: 'The pass is valid. {purpose}. Compare with the ID document: {holder}.',
    announceInvalid: 'The pass is not valid: {reason}.',
  },
};

export const LANGS = ['ru', 'en'];

let current = 'ru';

export function setLang(lang) {
  current = LANGS.includes(lang) ? lang : 'ru';
  return current;
}

export const lang = () => current;

/** The string `key` in the current language, with `{name}` parameters filled in. */
export function t(key, params = {}) {
  const text = STRINGS[current][key] ?? STRINGS.ru[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** A locale for Intl formatting. */
export const locale = () => (current === 'ru' ? 'ru-RU' : 'en-GB');

/** Fills every element marked `data-i18n="key"` with its text. */
export function translatePage(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  document.title = t('appTitle');
}
