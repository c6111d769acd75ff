## Patients: plain evidence, the explanation before a decision, a fine, the enrollment SMS

# What the phone showed, in plain words.
patient-ev-metres = { $m } м
patient-ev-km = { $km } км
patient-ev-away = { $n ->
        [one] { $n } положение телефона
        [few] { $n } положения телефона
       *[other] { $n } положений телефона
    } вне дома с { $from } до { $to }, самое дальнее — в { $far } от дома.
patient-ev-answer-away = Ваш ответ на проверку в { $time } показал место в { $far } от дома.
patient-ev-home = Домом считается круг радиусом { $r } вокруг вашего адреса. Неточные положения (по Wi-Fi и вышкам связи) и положения у самой границы не считаются выходом.
patient-ev-home-before = Перед этим телефон последний раз был дома в { $time }.
patient-ev-home-after = Дома телефон снова с { $time }.
patient-ev-not-back = Телефон пока не вернулся домой.
patient-ev-silence = С { $from } до { $to } от телефона не было данных.
patient-ev-silence-since = От телефона нет данных с { $from }.
patient-ev-silence-note = Само по себе это не нарушение и не штраф: телефон мог разрядиться или остаться без сети. Зарядите его и откройте приложение.
patient-ev-checkin = Проверку показали в { $issued }, ответить нужно было до { $deadline }.
patient-ev-checkin-late = Ваш ответ пришёл позже срока, в { $time }.
patient-ev-checkin-none = Ответ не пришёл.
patient-ev-last-report = Последние данные от телефона перед сроком — в { $time }.

# The explanation before a decision.
patient-explain = Объясните, что произошло
patient-explain-replace = Заменить объяснение
patient-explain-hint = Например: «Ходила к врачу, справка есть» или «Телефон был у сына». Врач прочтёт объяснение рядом с данными телефона до решения. Не больше 2000 знаков.
patient-explain-button = Отправить объяснение
patient-explain-required = Напишите объяснение.
patient-explain-long = Объяснение должно быть не длиннее { $max } знаков, сейчас — { $n }.
patient-explain-decided = Врач уже принял решение, объяснение больше нельзя изменить. Если назначена мера, её можно обжаловать.
patient-explain-saved = Объяснение отправлено. Врач прочтёт его до решения; до решения его можно заменить.
patient-explain-yours = Ваше объяснение
patient-explain-written = Отправлено { $time }

# Decisions, as the patient reads them.
patient-decided-dismissed = Врач проверил данные: нарушения нет.
patient-decided-confirmed = Врач признал нарушение. Мера: { $sanction }.
patient-decided-upheld = Другой врач удовлетворил вашу жалобу: мера отменена.
patient-decided-rejected = Другой врач отклонил вашу жалобу: мера остаётся.
patient-sanction-warning = предупреждение
patient-sanction-fine = штраф { $rub } ₽
patient-officer-reason = Причина, которую указал врач:

# A fine in force.
patient-fine-title = Как оплатить штраф
patient-fine-pay = Постановление о штрафе с реквизитами для оплаты (с номером УИН) придёт отдельно: письмом или на Госуслуги. Оплатить можно на Госуслугах или в банке по этим реквизитам в течение 60 дней после того, как постановление вступит в силу. Ссылок на оплату мы в SMS не присылаем.
patient-fine-appeal = Пока жалоба рассматривается, платить не нужно.
patient-fine-contact = Вопросы о штрафе и о решении:
patient-fine-help-link = телефон горячей линии и другие способы связи

# The officer's side of the explanation.
officer-statement-title = Объяснение пациента
officer-statement-written = Написано { $time }. Пациент может заменить его до решения.
officer-statement-none = Пациент пока не написал объяснения; он может сделать это до решения.
officer-statement-exists = Есть объяснение пациента

# The enrollment SMS, on the officer's page.
case-created-lead-sms = Дело пациента { $name } открыто. Код и ссылка для подключения телефона отправлены по SMS на номер { $phone }. Их можно показать и отсюда:
