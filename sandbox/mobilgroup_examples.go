package sandbox

// The Mobilgroup vendor document's own example answers, verbatim (the
// vendor document is /work/shared/vendor-docs/mobilgroup-voice-api.txt in the
// project's shared folder). The emulator serves them: MobilgroupDocBalance
// for every balance request, MobilgroupDocState for broadcast
// MobilgroupDocBroadcastID (or MobilgroupDocStateMalformed with
// MobilgroupConfig.DocMalformed), MobilgroupDocScripts, …Phrases, …Numbers and
// …Templates for those requests.

// MobilgroupDocBroadcastID is the id of the document's state example.
const MobilgroupDocBroadcastID = "1234"

// MobilgroupDocBalanceKopecks is the balance of MobilgroupDocBalance, 273,50.
const MobilgroupDocBalanceKopecks = 27350

// MobilgroupDocStateMalformed is the statistics answer (section «Запрос статистики», 4), verbatim: it is not valid JSON (the subscribers array ends with `, {"}` and is never closed).
const MobilgroupDocStateMalformed = `{"result": "ok", "id": "1234", "phones": "2", "budget": "3.41", "subscribers": [{"phone": " Телефон", "date": "Дата", "status": "Успешно", "attempts": "1", "duration": "13", "price": "0.91"}, {"phone": "Телефон", "date": "Дата", "status": "Занято", "attempts": "2", "duration": "0", "price": "2.50", "transfer": {"number": " Телефон", "duration": "0", "price": "0", "status": "Нет ответа"}, "sms": {"date": "Дата", "message": "Текст", "partition": "1", "price": "2.50", "status": "Доставлено"}}, {"}
}`

// MobilgroupDocStateError is the statistics error answer (section «Запрос статистики», 4), verbatim.
const MobilgroupDocStateError = `{"result": "error", "error_code": "Error_ID_Not_Found"}`

// MobilgroupDocBalance is the balance answer (section «Получение справочной информации», 9), verbatim.
const MobilgroupDocBalance = `{"result": "ok", "balance": "273,50", "currency": "Rub"}`

// MobilgroupDocScripts is the scripts answer (section 9), verbatim.
const MobilgroupDocScripts = `{"result": "ok", "data": [  
  {"id": "1", "name": "Скрипт 1", "duration": "25"},  
  {"id": "2", "name": "Скрипт 2", "duration": "14"}  
]}`

// MobilgroupDocPhrases is the phrases answer (section 9), verbatim.
const MobilgroupDocPhrases = `{ "result": "ok", "data": [
  { "id": "1", "name": "Фраза 1", "duration": "25" },
  { "id": "2", "name": "Фраза 2", "duration": "14" }
]}`

// MobilgroupDocNumbers is the sender numbers answer (section 9), verbatim.
const MobilgroupDocNumbers = `{ "result": "ok", "data": [
  { "number": "Номер 1", "description": "Комментарий к номеру 1" },
  { "number": "Номер 2", "description": "Комментарий к номеру 2" }
]}`

// MobilgroupDocTemplates is the templates answer (section 9), verbatim.
const MobilgroupDocTemplates = `{ "result": "ok", "data": [
  { "id": "1", "account": "123", "name": "Шаблон №1", "message": "Текст шаблона" },
  { "id": "2", "account": "123", "name": "Шаблон №2", "message": "Текст шаблона" },
  { "id": "3", "account": "123", "name": "Шаблон №3", "message": "Текст шаблона" }
]}`

// MobilgroupDocAuthError is the error answer of section 9 (api/get), verbatim.
const MobilgroupDocAuthError = `{
  "result": "error",
  "error_code": "Error_Authorisation_Failed"
}`

// MobilgroupDocSendAnswer is the api/send answer (section «Отправка голосовых сообщений», 3), verbatim; not served (the emulator has no api/send).
const MobilgroupDocSendAnswer = `{"result":"ok","id":"1234","phones":"3","budget":"1,82","subscribers": [  
  {"phone":"Номер абонента 1", "result":"ok", "price":"0,91", "duration":"14"},  
  {"phone":"Номер абонента 2", "result":"ok", "price":"0,91", "duration":"14"},  
  {"phone":"Номер абонента 3", "result":"error", "description":"Error_Not_Enough_Money"}  
]}`

// MobilgroupDocState is MobilgroupDocStateMalformed with its trailing
// `, {"}` replaced by the missing `]`: the answer the document meant. Its
// phone and date values are the document's placeholders ("Телефон",
// "Дата"), so an extractor rejects both subscribers.
const MobilgroupDocState = `{"result": "ok", "id": "1234", "phones": "2", "budget": "3.41", "subscribers": [{"phone": " Телефон", "date": "Дата", "status": "Успешно", "attempts": "1", "duration": "13", "price": "0.91"}, {"phone": "Телефон", "date": "Дата", "status": "Занято", "attempts": "2", "duration": "0", "price": "2.50", "transfer": {"number": " Телефон", "duration": "0", "price": "0", "status": "Нет ответа"}, "sms": {"date": "Дата", "message": "Текст", "partition": "1", "price": "2.50", "status": "Доставлено"}}]
}`
