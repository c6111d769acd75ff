## The health officer's decisions: check before sending, confirmation, the queue's filters.
## A flag is «сигнал» on the officers' pages; a location report is «геопозиция».

officers-flag-state-open = Ждёт отправки SMS пациенту
officers-flag-state-notified = Ждёт решения врача
officers-flag-state-dismissed = Снят: нарушения нет
officers-flag-state-confirmed_with_sanction = Подтверждён, назначена мера
officers-flag-state-appealed = Обжалован, ждёт решения другого врача
officers-flag-state-appeal_upheld = Жалоба удовлетворена, мера отменена
officers-flag-state-appeal_rejected = Жалоба отклонена, мера в силе
officers-event-raised = Сигнал создан
officers-event-dismissed = Снят
officers-event-confirmed = Подтверждён

officers-radius-minimum = { $used } м: меньше { $used } м не проверяется из-за точности GPS (указано { $given } м)

officers-summary-left-home = Геопозиций явно вне дома: { $n }, дальше всего { $max } м от дома.
officers-summary-no-signal = Геопозиций не было { $length }.
officers-summary-checkin-missed = На проверку не ответили до { $time }.
officers-summary-checkin-late = На проверку ответили поздно, в { $time }.
officers-raised = сигнал создан { $time }, { $ago } назад

officers-filter-label = Какие сигналы показать
officers-filter-kind = Что случилось
officers-filter-state = Состояние
officers-filter-age = Как давно создан
officers-filter-any = Все
officers-filter-any-age = Когда угодно
officers-age-1h = Больше часа назад
officers-age-1d = Больше суток назад
officers-age-3d = Больше трёх суток назад
officers-filter-count = { $what } ({ $n })
officers-filter-apply = Показать
officers-filter-clear = Сбросить фильтры
officers-queue-shown = Показано сигналов: { $shown } из { $all }
officers-queue-none-filtered = Таких сигналов нет. Сбросьте фильтры, чтобы увидеть все.

officers-note-missing = Укажите основание: почему вы так решили.

officers-check-title = Проверьте решение перед отправкой
officers-check-patient = Пациент
officers-check-flag = Сигнал
officers-check-decision = Решение
officers-check-dismiss = Снять сигнал: нарушения нет
officers-check-confirm = Нарушение подтверждено
officers-check-sanction = Мера
officers-check-uphold = Удовлетворить жалобу: мера отменяется
officers-check-reject = Отклонить жалобу: мера остаётся
officers-check-note = Основание
officers-check-no-note = не указано
officers-check-sms = SMS пациенту
officers-check-no-sms = не отправляется
officers-check-final = Решение нельзя будет отменить: пациент сразу получит это SMS.
officers-check-change = Изменить ответы
officers-confirm-dismiss = Снять сигнал и отправить SMS
officers-confirm-sanction = Назначить меру и отправить SMS
officers-confirm-appeal = Принять решение по жалобе и отправить SMS
officers-check-again-title = Ответы изменились
officers-check-again = Решение изменилось после проверки или сигнал изменился. Проверьте его ещё раз; ничего не отправлено.

officers-done-title = Решение принято
officers-done-dismissed = Сигнал снят. Пациент получит SMS о том, что нарушения нет.
officers-done-confirmed = Назначена мера: { $sanction }. Пациент получит SMS с решением и может обжаловать его; жалобу рассмотрит другой врач.
officers-done-upheld = Жалоба удовлетворена, мера отменена. Пациент получит SMS об этом.
officers-done-rejected = Жалоба отклонена, мера остаётся в силе. Пациент получит SMS об этом.
officers-done-back = Вернуться к очереди сигналов

officers-close-title = Закрыть дело?
officers-close-now = Сейчас
officers-close-no-sms = не отправляется
officers-close-what = Что произойдёт
officers-close-what-phones = Телефоны пациента отключатся: геопозиции и ответы на проверки больше не принимаются.
officers-close-what-code = Код подключения перестанет действовать.
officers-close-what-erase = Координаты дома и фото удалятся через { $days }.
officers-close-final = Закрытое дело нельзя открыть снова.
officers-close-confirm = Закрыть дело
officers-close-back = Вернуться к делу без изменений
officers-closed-title = Дело закрыто
officers-closed-next = Телефоны пациента отключены, код подключения больше не действует. Координаты дома и фото удалятся через { $days }.
