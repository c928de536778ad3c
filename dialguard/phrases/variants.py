"""Character variants folded onto one form before matching.

Traditional → simplified covers every traditional form of the characters in the shipped phrase
lists plus frequent call-centre vocabulary. It is deliberately one-way and leaves out traditional
characters that are also ordinary simplified characters with another meaning (著, 乾, 餘, 隻), so
folding never turns innocent simplified text into something else. Operators who need more can
write the phrase in both scripts; a full converter (OpenCC) was not worth a dependency here.

Latin look-alikes maps the Cyrillic and Greek letters that render like Latin ones (after
casefolding), so "nо risk" with a Cyrillic о still reads "no risk".
"""

from __future__ import annotations

_TRADITIONAL_SIMPLIFIED = """
無无 風风 險险 穩稳 賺赚 賠赔 證证 剛刚 兌兑 絕绝 對对 錢钱 憂忧 贏赢 虧亏 損损 償偿 額额
過过 錄录 題题 專专 學学 習习 課课 師师 試试 讀读 書书 績绩 級级 歲岁 優优 勢势 滿满
藥药 癒愈 復复 發发 傳传 祕秘 醫医 療疗 診诊 斷断 護护 傷伤 針针 濟济 衛卫 癥症
們们 個个 這这 來来 說说 時时 會会 為为 電电 話话 號号 碼码 實实 聯联 繫系 係系 請请 問问
費费 資资 訊讯 戶户 帳账 賬账 務务 業业 產产 貸贷 銀银 機机 構构 關关 於于 與与 從从 經经
還还 開开 語语 項项 買买 賣卖 價价 禮礼 贈赠 獎奖 點点 擊击 網网 絡络 邊边 決决 讓让 給给
認认 識识 選选 擇择 應应 該该 條条 萬万 億亿 幣币 長长 門门 間间 見见 現现 動动 車车 東东
國国 後后 頭头 將将 張张 樣样 種种 麼么 體体 氣气 處处 準准 標标 歡欢 廣广 報报 紙纸 單单
雙双 獲获 勝胜 緊紧 權权 擔担 紹绍 換换 積积 續续 訂订 閱阅 區区 術术 郵邮 審审 簽签 驗验
測测 歷历 庫库 鬆松 臺台 裡里 裏里 麵面 員员 壓压 齊齐 靈灵 驚惊 隨随 圍围 紀纪 錯错
"""

_LATIN_LOOKALIKES = "аaеeоoрpсcуyхxіiјjѕsԁdһhӏlοoαaιiκkνvρpυu"


def _variant_table() -> dict[int, str]:
    table = {ord(pair[0]): pair[1] for pair in _TRADITIONAL_SIMPLIFIED.split()}
    pairs = _LATIN_LOOKALIKES
    table.update({ord(pairs[i]): pairs[i + 1] for i in range(0, len(pairs), 2)})
    return table


VARIANTS: dict[int, str] = _variant_table()
"""``str.translate`` table: code point of a variant → the form phrases are matched in."""
