"""Words for ``openplate demo``'s generated maps: a small list per language, no external data.

Each language has everyday planning and study words (the kind of topic people map), written
in its own script, and says whether its words are separated by spaces (Chinese and Japanese
are written without them). The lists are ours, chosen for variety of letters and scripts:
Latin with accents (French, German, Spanish, Portuguese, Polish), Chinese, Japanese, Korean,
Arabic, and emoji mixed into any of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str
    #: The tag a map in this language gets (None: no language tag).
    tag: str | None
    words: tuple[str, ...]
    spaced: bool = True
    #: Capitalise a title's first letter (scripts with case only).
    capitalise: bool = True


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ENGLISH = Language("en", None, _words("""
    project plan goals budget team meeting research design marketing launch review strategy
    customer product timeline risks ideas notes study exam chapter history biology chemistry
    physics garden recipe travel holiday fitness health habits reading books music writing
    software database testing release security learning language grammar vocabulary finance
    savings home kitchen wedding party event photography camera cycling running climate energy
    water ocean forest weekly summary questions answers priorities lessons onboarding hiring
    interview feedback roadmap features users support pricing sales partners contract
"""))

FRENCH = Language("fr", "français", _words("""
    projet plan objectifs budget équipe réunion recherche conception lancement stratégie client
    produit calendrier risques idées notes étude examen chapitre histoire biologie chimie jardin
    recette voyage vacances santé habitudes lecture livres musique écriture logiciel sécurité
    apprentissage langue grammaire vocabulaire finances épargne maison cuisine mariage fête
    événement photographie vélo course climat énergie eau océan forêt bilan priorités leçons
"""))

GERMAN = Language("de", "deutsch", _words("""
    Projekt Planung Ziele Budget Team Besprechung Forschung Entwurf Markteinführung Strategie
    Kunde Produkt Zeitplan Risiken Ideen Notizen Studium Prüfung Kapitel Geschichte Biologie
    Chemie Garten Rezept Reise Urlaub Gesundheit Gewohnheiten Lesen Bücher Musik Schreiben
    Software Sicherheit Lernen Sprache Grammatik Wortschatz Finanzen Sparen Haus Küche Hochzeit
    Feier Veranstaltung Fotografie Radfahren Laufen Klima Energie Wasser Meer Wald Überblick
    Größe Bäume Fragen Antworten
"""), capitalise=True)

SPANISH = Language("es", "español", _words("""
    proyecto plan objetivos presupuesto equipo reunión investigación diseño lanzamiento
    estrategia cliente producto cronograma riesgos ideas notas estudio examen capítulo historia
    biología química jardín receta viaje vacaciones salud hábitos lectura libros música
    escritura programa seguridad aprendizaje idioma gramática vocabulario finanzas ahorro casa
    cocina boda fiesta evento fotografía bicicleta carrera clima energía agua océano bosque año
    niños preguntas respuestas
"""))

PORTUGUESE = Language("pt", "português", _words("""
    projeto plano metas orçamento equipe reunião pesquisa lançamento estratégia produto
    cronograma riscos ideias anotações estudo prova capítulo história jardim receita viagem
    férias saúde hábitos leitura livros música segurança aprendizagem língua finanças casa
    cozinha casamento festa evento fotografia bicicleta clima energia água oceano floresta
    coração ações lições perguntas
"""))

POLISH = Language("pl", "polski", _words("""
    projekt plan cele budżet zespół spotkanie badania projektowanie strategia klient produkt
    harmonogram ryzyko pomysły notatki nauka egzamin rozdział historia biologia chemia ogród
    przepis podróż wakacje zdrowie nawyki czytanie książki muzyka pisanie oprogramowanie
    bezpieczeństwo język gramatyka słownictwo finanse oszczędności dom kuchnia ślub wydarzenie
    fotografia rower bieganie klimat energia woda ocean las źródła łąka pytania odpowiedzi
"""))

CHINESE = Language("zh", "中文", _words("""
    项目 计划 目标 预算 团队 会议 研究 设计 市场 发布 策略 客户 产品 时间表 风险 想法 笔记 学习
    考试 章节 历史 生物 化学 物理 花园 食谱 旅行 假期 健康 习惯 阅读 书籍 音乐 写作 软件 数据库
    测试 安全 语言 语法 词汇 财务 储蓄 家庭 厨房 婚礼 活动 摄影 骑行 跑步 气候 能源 海洋 森林
    总结 问题 答案 复习
"""), spaced=False, capitalise=False)

JAPANESE = Language("ja", "日本語", _words("""
    プロジェクト 計画 目標 予算 チーム 会議 研究 設計 マーケティング 発売 戦略 顧客 製品
    スケジュール リスク アイデア メモ 勉強 試験 歴史 生物学 化学 庭 レシピ 旅行 休暇 健康 習慣
    読書 本 音楽 執筆 ソフトウェア データベース テスト セキュリティ 言語 文法 語彙 家計 貯金 家
    台所 結婚式 イベント 写真 自転車 ランニング 気候 エネルギー 海 森 桜 京都 まとめ 質問 答え
"""), spaced=False, capitalise=False)

KOREAN = Language("ko", "한국어", _words("""
    프로젝트 계획 목표 예산 팀 회의 연구 디자인 마케팅 출시 전략 고객 제품 일정 위험 아이디어
    메모 공부 시험 역사 생물학 화학 정원 요리법 여행 휴가 건강 습관 독서 책 음악 글쓰기
    소프트웨어 보안 언어 문법 어휘 재정 저축 집 부엌 결혼식 행사 사진 자전거 달리기 기후 에너지
    물 바다 숲 요약 질문 답변
"""), capitalise=False)

ARABIC = Language("ar", "العربية", _words("""
    مشروع خطة أهداف ميزانية فريق اجتماع بحث تصميم تسويق إطلاق استراتيجية عميل منتج جدول مخاطر
    أفكار ملاحظات دراسة امتحان فصل تاريخ أحياء كيمياء حديقة وصفة سفر عطلة صحة عادات قراءة كتب
    موسيقى كتابة برمجيات أمان تعلم لغة قواعد مفردات مالية ادخار منزل مطبخ زفاف حفلة فعالية تصوير
    دراجة جري مناخ طاقة ماء محيط غابة ملخص أسئلة أجوبة
"""), capitalise=False)

#: Languages and how often a map is written in each (weights, out of 100).
LANGUAGES: tuple[tuple[Language, int], ...] = (
    (ENGLISH, 52), (FRENCH, 6), (GERMAN, 6), (SPANISH, 6), (PORTUGUESE, 4), (POLISH, 3),
    (CHINESE, 7), (JAPANESE, 6), (KOREAN, 3), (ARABIC, 7),
)

EMOJI = _words("🎯 📚 💡 ✅ 🚀 🌱 🎨 🧠 📅 💰 🏡 ✈️ 🍳 🎵 🏃 🌍 🔬 📝 ⚡ 🌊 🌲 🎉 ❤️ 👩‍💻 🇯🇵 🇫🇷 👍🏽")

#: Tags by theme (stored form: lower case, letters, digits and '-').
TOPIC_TAGS = _words("""
    planning brainstorming project-management education study-notes exam-prep business
    marketing strategy productivity personal travel cooking health fitness software
    architecture research history science language-learning books music writing finance
    home events photography climate teamwork onboarding meetings goals habits
""")

#: The categories ``openplate demo`` adds when the database has none: (slug, name).
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("business", "Business"), ("education", "Education"), ("personal", "Personal life"),
    ("technology", "Technology"), ("creativity", "Creativity & ideas"),
    ("health", "Health & fitness"), ("travel", "Travel"),
)

#: The demo users: (username, display name). Their e-mail is ``<username>@demo.example``.
USERS: tuple[tuple[str, str], ...] = (
    ("demo-amara", "Amara Okafor"), ("demo-lukas", "Lukas Weber"), ("demo-mei", "Mei Chen"),
    ("demo-yasmin", "Yasmin Haddad"), ("demo-sofia", "Sofia Rossi"), ("demo-kenji", "Kenji Sato"),
)
DEMO_EMAIL_DOMAIN = "demo.example"
