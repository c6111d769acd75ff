## Patients: plain evidence, the explanation before a decision, a fine, the enrollment SMS

# What the phone showed, in plain words.
patient-ev-metres = { $m } m
patient-ev-km = { $km } km
patient-ev-away = { $n ->
        [one] { $n } position of your phone
       *[other] { $n } positions of your phone
    } outside your home between { $from } and { $to }, the farthest { $far } away.
patient-ev-answer-away = Your answer to the check-in at { $time } showed a place { $far } from home.
patient-ev-home = Home is a circle of { $r } around your address. Imprecise positions (from Wi-Fi or cell towers) and positions right at its edge do not count as leaving.
patient-ev-home-before = Before that, your phone was last at home at { $time }.
patient-ev-home-after = Your phone was back home from { $time }.
patient-ev-not-back = Your phone is not back home yet.
patient-ev-silence = From { $from } to { $to } there was no data from your phone.
patient-ev-silence-since = There has been no data from your phone since { $from }.
patient-ev-silence-note = This alone is not a violation or a fine: the battery may have run out or there was no network. Charge the phone and open the app.
patient-ev-checkin = The check-in was shown at { $issued }, to be answered by { $deadline }.
patient-ev-checkin-late = Your answer came after the time was up, at { $time }.
patient-ev-checkin-none = No answer came.
patient-ev-last-report = The last data from your phone before the time was up came at { $time }.

# The explanation before a decision.
patient-explain = Explain what happened
patient-explain-replace = Replace your explanation
patient-explain-hint = For example: “I went to the doctor and have a certificate” or “My son had the phone”. The doctor reads your explanation beside the phone's data before deciding. At most 2000 characters.
patient-explain-button = Send the explanation
patient-explain-required = Write your explanation.
patient-explain-long = The explanation must be at most { $max } characters; it has { $n }.
patient-explain-decided = A doctor has already decided, so the explanation can no longer be changed. If a measure was imposed, you can appeal it.
patient-explain-saved = Your explanation is sent. The doctor reads it before deciding; until then you can replace it.
patient-explain-yours = Your explanation
patient-explain-written = Sent { $time }

# Decisions, as the patient reads them.
patient-decided-dismissed = A doctor checked the data and found no violation.
patient-decided-confirmed = A doctor found a violation. Measure: { $sanction }.
patient-decided-upheld = Another doctor upheld your appeal, and the measure is lifted.
patient-decided-rejected = Another doctor rejected your appeal, and the measure stands.
patient-sanction-warning = a warning
patient-sanction-fine = a fine of { $rub } ₽
patient-officer-reason = The doctor's reason:

# A fine in force.
patient-fine-title = How to pay the fine
patient-fine-pay = The fine notice with the payment details (including its payment reference, the UIN) comes separately, by post or on Gosuslugi. You can pay on Gosuslugi or at a bank with those details within 60 days after the notice takes effect. We never send payment links by SMS.
patient-fine-appeal = While your appeal is considered, you do not need to pay.
patient-fine-contact = Questions about the fine or the decision:
patient-fine-help-link = the hotline and other ways to reach us

# The officer's side of the explanation.
officer-statement-title = The patient's explanation
officer-statement-written = Written { $time }. The patient may replace it until the decision.
officer-statement-none = The patient has not written an explanation yet; they may until the decision.
officer-statement-exists = The patient has explained

# The enrollment SMS, on the officer's page.
case-created-lead-sms = The case of { $name } is open. The code and the link to connect their phone were sent by SMS to { $phone }. You can also show them from here:
